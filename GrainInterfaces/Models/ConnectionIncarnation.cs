using System.Globalization;
using System.Security.Cryptography;

namespace OrleansControl.GrainInterfaces.Models;

/// <summary>
/// Which of two copies of one connection entry is the newer: what the other region's replica, the owner's SyncState
/// answer and the demo decide by. A registration of an empty connection grain starts an <em>incarnation</em>: the
/// owner's registration time (UTC, to the tick) and a random tiebreak, written so that ordinal order is time order
/// (<c>20261201T122300.1234567Z-9f3a01c2</c>). It is persisted with the entry and never changes with its transitions.
/// <list type="bullet">
/// <item>Same incarnation: the higher version wins (versions grow by one per accepted change).</item>
/// <item>Different incarnations: the later one wins, whatever its versions. An owner restarted on memory registers
/// its connections again from version 1; their new incarnation supersedes the copy's old one at once, and a late
/// message of the old incarnation (a delayed push, a redelivered event) cannot roll the copy back.</item>
/// <item>Either side without an incarnation (stored before incarnations existed): versions decide, as they did.</item>
/// </list>
/// The order assumes the owner's clock does not go back, between a registration and the next one of the same
/// connection id, by more than the time between them.
/// </summary>
public static class ConnectionIncarnation
{
    /// <summary>A new incarnation for a registration at <paramref name="registeredAt"/>.</summary>
    public static string New(DateTimeOffset registeredAt) =>
        registeredAt.UtcDateTime.ToString("yyyyMMdd'T'HHmmss.fffffff'Z'", CultureInfo.InvariantCulture) + "-" +
        Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));

    /// <summary>
    /// Above zero when (<paramref name="incarnation"/>, <paramref name="version"/>) is newer than
    /// (<paramref name="heldIncarnation"/>, <paramref name="heldVersion"/>), zero when it is the same entry, below zero
    /// when older.
    /// </summary>
    public static int Compare(string? incarnation, long version, string? heldIncarnation, long heldVersion)
    {
        if (string.IsNullOrEmpty(incarnation) || string.IsNullOrEmpty(heldIncarnation) || incarnation == heldIncarnation)
            return version.CompareTo(heldVersion);
        return Math.Sign(string.CompareOrdinal(incarnation, heldIncarnation));
    }

    /// <summary>True when both are known and differ: two registrations, not two versions of one.</summary>
    public static bool Differ(string? a, string? b) => !string.IsNullOrEmpty(a) && !string.IsNullOrEmpty(b) && a != b;
}
