using System.Text.Json;
using OrleansControl.GrainInterfaces.Streams;
using OrleansControl.Streams.Kafka.Wire;

namespace OrleansControl.Streams.Tests;

/// <summary>activate-dr-client on the bus: its CloudEvents type, subject and data as docs/events.md describes them.</summary>
public sealed class ClientDrActivatedEventTests
{
    [Fact]
    public void A_dr_activation_is_an_oc_client_dr_activated_cloud_event_about_its_connection_and_reads_back_equal()
    {
        var codec = new CloudEventCodec(EventCatalog.Controller, CloudEventCodec.SourceFor("eu-west", "controller-0"));
        var at = new DateTimeOffset(2026, 12, 1, 9, 31, 2, 118, TimeSpan.Zero);
        var activated = new ClientDrActivated("conn-7f3a", "bank-001", "sidecar-a", "sidecar-dr", "s-a1", "s-a1.scheme.example:8583", 44,
            "client sidecar sidecar-a silent since 09:30:58 and server s-a1 no longer holds its session", at.AddMilliseconds(-558), at, "eu-west");

        var bytes = codec.Encode(activated, "0193a7c2-5d21-7b3c-9f00-4a2b8c1d2e42", at);
        using var json = JsonDocument.Parse(bytes);
        var root = json.RootElement;
        Assert.Equal(("oc.client.dr-activated", "conn-7f3a"), (root.GetProperty("type").GetString(), root.GetProperty("subject").GetString()));
        Assert.Equal(("sidecar-a", "sidecar-dr"), (root.GetProperty("data").GetProperty("fromSidecarId").GetString(),
            root.GetProperty("data").GetProperty("toSidecarId").GetString()));

        var decoded = codec.Decode(bytes, out var problem);
        Assert.Null(problem);
        Assert.Equal(activated, decoded!.Data);
    }
}
