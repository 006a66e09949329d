using Microsoft.Extensions.Logging;
using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Models;
using OrleansControl.Grains.Telemetry;

namespace OrleansControl.Grains.Sessions;

/// <summary>
/// The last session report of one scheme server (soft state; see <see cref="IServerSessionsGrain"/>). The rule it
/// answers by: only a report received after the client went silent (by one heartbeat interval or more, so a report
/// written before the client's last reconnect cannot count) and still fresh says anything; it says Seen when it lists
/// a session from the client's address and Gone when it does not. A report relayed from the peer region counts from
/// when the peer received it, measured as its age on arrival against this silo's clock (the peer's clock, ahead or
/// behind, never enters), so the rule is the same on both sides.
/// </summary>
internal sealed class ServerSessionsGrain(TimeProvider time, ILogger<ServerSessionsGrain> logger) : Grain, IServerSessionsGrain
{
    private ServerSessionReport? _last;
    private DateTimeOffset _receivedAt;

    public Task Report(ServerSessionReport report)
    {
        _last = report;
        _receivedAt = time.GetUtcNow();
        return Task.CompletedTask;
    }

    public Task Relayed(ServerSessionReport report, TimeSpan age, string fromRegion)
    {
        var at = time.GetUtcNow() - (age > TimeSpan.Zero ? age : TimeSpan.Zero); // our clock only: the peer's says nothing here
        if (_last is not null && at <= _receivedAt)
            return Task.CompletedTask; // out of order (or a repeat): the report held is newer
        _last = report;
        _receivedAt = at;
        Log.SessionReportRelayed(logger, this.GetPrimaryKeyString(), fromRegion, at);
        return Task.CompletedTask;
    }

    public Task<SessionEvidence> Sees(string clientAddress, DateTimeOffset silentSince, TimeSpan freshFor)
    {
        var now = time.GetUtcNow();
        if (_last is not { } report)
            return Answer(SessionVerdict.NoEvidence, null, $"no session report from server {this.GetPrimaryKeyString()}'s sidecar");
        if (now - _receivedAt > freshFor)
            return Answer(SessionVerdict.NoEvidence, _receivedAt, $"the last session report of {report.ServerId} is {(now - _receivedAt).TotalSeconds:0.#} s old");
        if (_receivedAt <= silentSince)
            return Answer(SessionVerdict.NoEvidence, _receivedAt, $"no session report of {report.ServerId} since the client went silent");
        var held = report.Sessions.FirstOrDefault(s => string.Equals(s.ClientAddress, clientAddress, StringComparison.OrdinalIgnoreCase));
        return held is null
            ? Answer(SessionVerdict.Gone, _receivedAt, $"{report.ServerId} reported {report.Sessions.Length} sessions at {_receivedAt:HH:mm:ss.fff}, none from {clientAddress}")
            : Answer(SessionVerdict.Seen, _receivedAt, $"{report.ServerId} reported a session from {clientAddress}{(held.SignedOn ? " signed on" : "")} at {_receivedAt:HH:mm:ss.fff}");
    }

    public Task<ServerSessionReport?> GetLastReport() => Task.FromResult(_last);

    private static Task<SessionEvidence> Answer(SessionVerdict verdict, DateTimeOffset? at, string detail) =>
        Task.FromResult(new SessionEvidence(verdict, at, detail));
}
