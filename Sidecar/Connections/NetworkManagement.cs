using System.Globalization;
using OrleansControl.Codec;

namespace OrleansControl.Sidecar.Connections;

/// <summary>
/// The 08xx messages the link itself speaks: sign-on (field 70 = 001), sign-off (002) and echo test (301),
/// and the 0810 answers to the peer's. Built on whatever spec the link uses; fields 7 and 11 are set as
/// every ISO 8583 dialect we ship defines them (n 10 MMDDhhmmss, n 6).
/// </summary>
public static class NetworkManagement
{
    public const string SignOnCode = "001";
    public const string SignOffCode = "002";
    public const string EchoCode = "301";
    public const string Approved = "00";

    public static bool IsNetworkManagement(int mti) => mti / 100 % 10 == 8;

    public static IsoMessage SignOn(IsoWire wire, string stan, string? institutionId) =>
        Build(wire, SignOnCode, stan, institutionId);

    public static IsoMessage SignOff(IsoWire wire, string stan, string? institutionId) =>
        Build(wire, SignOffCode, stan, institutionId);

    public static IsoMessage Echo(IsoWire wire, string stan) => Build(wire, EchoCode, stan, null);

    /// <summary>The function code (field 70) of a network-management message, or null.</summary>
    public static string? Function(IsoMessage message) => IsoWire.Get(message, 70);

    public static bool IsApproved(IsoMessage response) => IsoWire.Get(response, 39) == Approved;

    /// <summary>
    /// The answer to a peer's 08x0: same MTI + 10, fields 7, 11, 33, 41 and 70 echoed back, 39 = 00.
    /// </summary>
    public static IsoMessage Answer(IsoWire wire, IsoMessage request)
    {
        var response = wire.Create(IsoWire.MtiOf(request) + 10);
        foreach (var field in (ReadOnlySpan<int>)[7, 11, 33, 41, 70])
        {
            if (IsoWire.Get(request, field) is { } value)
            {
                IsoWire.Set(response, field, value);
            }
        }

        IsoWire.Set(response, 39, Approved);
        return response;
    }

    private static IsoMessage Build(IsoWire wire, string function, string stan, string? institutionId)
    {
        var message = wire.Create(800);
        IsoWire.Set(message, 7, DateTime.UtcNow.ToString("MMddHHmmss", CultureInfo.InvariantCulture));
        IsoWire.Set(message, 11, stan);
        if (!string.IsNullOrEmpty(institutionId))
        {
            IsoWire.Set(message, 33, institutionId);
        }

        IsoWire.Set(message, 70, function);
        return message;
    }
}
