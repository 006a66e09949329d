using OrleansControl.Demo.Observation;

namespace OrleansControl.Demo.Faults;

/// <summary>
/// The demo's story: wait until every connection is ACTIVE where its link is and approving, then inject each fault in
/// turn, follow it until every connection it hit is ACTIVE on a healthy server and approving again, undo it (restart
/// the killed server, end the black hole, …), and let things settle before the next one.
/// </summary>
internal sealed class Scenario(Installation installation, Observer observer, Timeline timeline, DemoOptions options)
{
    private static readonly TimeSpan RecoveryTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan LinkCut = TimeSpan.FromSeconds(6);
    private static readonly TimeSpan ChangeDuringCut = TimeSpan.FromSeconds(1);

    /// <summary>What the demo is doing now, for the header line.</summary>
    public string Phase { get; private set; } = "starting";

    public async Task RunAsync(CancellationToken ct)
    {
        Phase = "waiting for every connection to be ACTIVE and approving";
        await UntilSteadyAsync(TimeSpan.FromSeconds(60), ct);
        timeline.Log(installation.Regions.Two
            ? "steady: every connection ACTIVE where its link is signed on, in both registries, and approving"
            : "steady: every connection ACTIVE where its link is signed on, and approving");
        foreach (var fault in options.Faults)
        {
            Phase = "steady";
            await Task.Delay(Settle, ct);
            await (fault switch
            {
                FaultKind.Kill => KillServerAsync(ct),
                FaultKind.BlackHole => BlackHoleServerAsync(ct),
                FaultKind.Controller => KillControllerAsync(ct),
                FaultKind.Link => CutLinkAsync(ct),
                _ => throw new ArgumentOutOfRangeException(nameof(options), fault, null),
            });
            Phase = "settling";
            await UntilSteadyAsync(TimeSpan.FromSeconds(20), ct);
        }

        Phase = options.Faults.Count == 0 ? "steady (no faults)" : "all faults done";
    }

    private async Task KillServerAsync(CancellationToken ct)
    {
        var target = CarryingServer(preferBank: 0);
        var server = installation.Server(target);
        Phase = $"kill -9 {target}";
        var records = Open(FaultKind.Kill, $"kill -9 {target}", target, () => server.Kill());
        await FollowAsync(records, ct);
        await server.RestartAsync(ct);
        timeline.Log($"{target} started again on {server.Address} (pid {server.Pid}), as a supervisor would");
    }

    private async Task BlackHoleServerAsync(CancellationToken ct)
    {
        var target = CarryingServer(preferBank: 1);
        var server = installation.Server(target);
        var byNamespace = server.Namespace is not null;
        var how = byNamespace ? "black hole" : "SIGSTOP";
        Phase = $"{how} {target}";
        var records = Open(FaultKind.BlackHole, $"{how} {target}", target, () =>
        {
            if (server.Namespace is { } ns)
            {
                ns.BlackHole();
            }
            else
            {
                server.Pause();
            }
        });
        timeline.Log(byNamespace
            ? $"{target}'s namespace {server.Namespace!.Name} drops everything it sends and has lost its address: no RST, no ACK"
            : $"{target} stopped with SIGSTOP (no network namespace here): its kernel still ACKs, nothing answers");
        try
        {
            await FollowAsync(records, ct);
        }
        finally
        {
            if (server.Namespace is { } ns)
            {
                ns.Restore();
            }
            else
            {
                server.Resume();
            }

            timeline.Log($"{target} reachable again ({how} ended)");
        }
    }

    private async Task KillControllerAsync(CancellationToken ct)
    {
        var controller = installation.Controller;
        Phase = $"kill -9 controller {controller.Region}";
        var records = installation.Banks
            .Select(b => timeline.Open(FaultKind.Controller, $"kill -9 controller {controller.Region}", controller.Region, b,
                observer.Latest.Entry(b.ConnectionId)?.ServerId, installation.Clock.Now))
            .ToList();
        controller.Kill();
        timeline.Log(options.RealBackend
            ? $"controller {controller.Region} killed (kill -9): registry, pools and outboxes are in its Redis and wait for it"
            : $"controller {controller.Region} killed (kill -9): registry, pools and outboxes were in memory and are gone");
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(2), ct);
            Phase = $"restarting controller {controller.Region}";
            await controller.StartAsync(ct);
            var back = installation.Clock.Now;
            foreach (var r in records)
            {
                r.UndoneAt = back;
            }

            timeline.Log($"controller {controller.Region} started again on the same ports (pid {controller.Pid})");
            if (!installation.Regions.Two)
            {
                await installation.DeclareServersAsync(ct);
                timeline.Log($"pool '{Installation.Pool}' declared again (the operator's configuration)");
            }
            await FollowAsync(records, ct);
        }
        finally
        {
            Close(records);
        }
    }

    private async Task CutLinkAsync(CancellationToken ct)
    {
        if (installation.Regions is not { Two: true, ToScheme: { } toScheme, ToBank: { } toBank })
        {
            timeline.Log("link fault skipped: one region, no link between regions");
            return;
        }

        Phase = "link between the regions cut";
        var records = installation.Banks
            .Select(b => timeline.Open(FaultKind.Link, "link cut", "bank <-> scheme", b, observer.Latest.Entry(b.ConnectionId)?.ServerId,
                installation.Clock.Now))
            .ToList();
        toScheme.Cut();
        toBank.Cut();
        timeline.Log("link between the regions cut both ways (every connection reset, nothing listening): each region goes on alone");
        // Something changes while the regions cannot talk, so that "the registries agree again" means something: a
        // server carrying a bank connection dies, the bank region moves the connection on its own, and the scheme's
        // copy stays behind until the link returns.
        var moved = CarryingServer(preferBank: 0);
        var server = installation.Server(moved);
        try
        {
            await Task.Delay(ChangeDuringCut, ct);
            server.Kill();
            timeline.Log($"during the cut: kill -9 {moved}; the bank region moves its connections alone, the scheme's copy is now behind");
            await Task.Delay(LinkCut - ChangeDuringCut, ct);
        }
        finally
        {
            toScheme.Restore();
            toBank.Restore();
            var back = installation.Clock.Now;
            foreach (var r in records)
            {
                r.UndoneAt = back;
            }

            timeline.Log($"link restored after {LinkCut.TotalSeconds:0} s");
        }

        await FollowAsync(records, ct);
        if (server.HasExited)
        {
            await server.RestartAsync(ct);
            timeline.Log($"{moved} started again on {server.Address} (pid {server.Pid}), as a supervisor would");
        }
    }

    /// <summary>The server carrying bank <paramref name="preferBank"/>'s connection (else any carrying server).</summary>
    private string CarryingServer(int preferBank)
    {
        var snapshot = observer.Latest;
        var banks = installation.Banks;
        return snapshot.Entry(banks[Math.Min(preferBank, banks.Count - 1)].ConnectionId)?.ServerId
            ?? banks.Select(b => snapshot.Entry(b.ConnectionId)?.ServerId).FirstOrDefault(s => s is not null)
            ?? installation.Servers[0].ServerId;
    }

    /// <summary>Opens one record per connection on <paramref name="target"/>, with the injection time taken just before it.</summary>
    private List<FaultRecord> Open(FaultKind kind, string description, string target, Action inject)
    {
        var snapshot = observer.Latest;
        var hit = installation.Banks.Where(b => snapshot.Entry(b.ConnectionId)?.ServerId == target).ToList();
        var at = installation.Clock.Now;
        inject();
        timeline.Log($"{description}: injected; connections on it: {(hit.Count == 0 ? "none" : string.Join(", ", hit.Select(b => b.ConnectionId)))}");
        return [.. hit.Select(b => timeline.Open(kind, description, target, b, target, at))];
    }

    private async Task FollowAsync(List<FaultRecord> records, CancellationToken ct)
    {
        try
        {
            var deadline = installation.Clock.Now + RecoveryTimeout;
            while (!records.All(r => r.Recovered) && installation.Clock.Now < deadline)
            {
                await Task.Delay(100, ct);
            }

            // A little longer, so the traffic window of the fault includes the requests that were in flight.
            await Task.Delay(TimeSpan.FromSeconds(1), ct);
            foreach (var r in records.Where(r => !r.Recovered))
            {
                timeline.Log($"{r.Description}: {r.Connection} not recovered within {RecoveryTimeout.TotalSeconds:0} s");
            }
        }
        finally
        {
            Close(records);
        }
    }

    private void Close(IEnumerable<FaultRecord> records)
    {
        foreach (var r in records)
        {
            timeline.Close(r);
        }
    }

    private async Task UntilSteadyAsync(TimeSpan timeout, CancellationToken ct)
    {
        var deadline = installation.Clock.Now + timeout;
        while (installation.Clock.Now < deadline)
        {
            var snapshot = observer.Latest;
            if (installation.Banks.All(b => snapshot.Agrees(b) && snapshot.RegistriesAgree(b.ConnectionId) && b.Client.ApprovalRate() > 0))
            {
                return;
            }

            await Task.Delay(100, ct);
        }

        var last = observer.Latest;
        var why = installation.Banks.Select(b => (b, Entry: last.Entry(b.ConnectionId), Copy: last.Replica?.GetValueOrDefault(b.ConnectionId)))
            .Where(x => !last.Agrees(x.b) || !last.RegistriesAgree(x.b.ConnectionId) || x.b.Client.ApprovalRate() <= 0)
            .Select(x => $"{x.b.ConnectionId}: bank {x.Entry?.Status ?? "-"} on {x.Entry?.ServerId ?? "-"}" +
                (last.Replica is null ? "" : $", scheme's copy {x.Copy?.Status ?? "none"} on {x.Copy?.ServerId ?? "-"}") +
                $", {x.b.Client.ApprovalRate():0} approvals/s");
        timeline.Log($"not steady after {timeout.TotalSeconds:0} s ({string.Join("; ", why)}); carrying on");
    }
}
