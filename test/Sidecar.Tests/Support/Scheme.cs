using System.Collections.Concurrent;
using OrleansControl.Codec;
using OrleansControl.Sidecar;
using OrleansControl.Sidecar.Client;
using OrleansControl.Sidecar.Connections;
using OrleansControl.Sidecar.Health;
using OrleansControl.Sidecar.Server;

namespace OrleansControl.Sidecar.Tests.Support;

/// <summary>A scheme-side test server on 127.0.0.1:0 whose answers the test controls.</summary>
internal sealed class Scheme : IInboundHandler, IAsyncDisposable
{
    public static readonly MessageSpec Spec = MessageSpec.BuiltIn(IsoWire.DefaultSpec);

    private readonly ConcurrentQueue<(IsoMessage Request, TaskCompletionSource<IsoMessage?> Answer)> _held = new();

    public Scheme(string name = "scheme", Action<IsoServerOptions>? configure = null, int port = 0, Microsoft.Extensions.Logging.ILogger<IsoServer>? logger = null)
    {
        var options = new IsoServerOptions { Name = name, Listen = $"127.0.0.1:{port}" };
        configure?.Invoke(options);
        Name = name;
        Server = new IsoServer(options, this, logger);
        Server.SessionChanged += e => Events.Enqueue(e);
        Server.Start();
    }

    public string Name { get; }

    public IsoServer Server { get; }

    public string Address => $"127.0.0.1:{Server.Endpoint!.Port}";

    public int Port => Server.Endpoint!.Port;

    /// <summary>While true, 0200s are held until <see cref="ReleaseAll"/> (or answered by the test).</summary>
    public bool Hold { get; set; }

    /// <summary>Answer 0200s at all (false: swallow them). Reversals are governed by <see cref="AckReversals"/>.</summary>
    public bool Answer { get; set; } = true;

    /// <summary>Acknowledge 0420/0421 with 0430 (false: swallow them).</summary>
    public bool AckReversals { get; set; } = true;

    public TimeSpan Delay { get; set; }

    public ConcurrentQueue<IsoMessage> Received { get; } = new();

    public ConcurrentQueue<IsoMessage> Unmatched { get; } = new();

    public ConcurrentQueue<ServerSessionEvent> Events { get; } = new();

    public int HeldCount => _held.Count;

    public static IsoMessage Authorization(string stan, string terminal = "TERM0001", long amount = 1000)
    {
        var m = Spec.CreateMessage(200);
        m.Set(2, "4111111111111111").Set(3, "000000").Set(4, amount).Set(11, stan).Set(41, terminal);
        return m;
    }

    public IsoMessage Respond(IsoMessage request)
    {
        var response = Spec.CreateMessage(Samples.SchemeServer.AuthorizationResponder.ResponseMti(request.Mti));
        foreach (var field in new[] { 2, 3, 4, 11, 41 })
        {
            if (request.GetString(field) is { } v)
            {
                response.Set(field, v);
            }
        }

        response.Set(39, "00").Set(44, Name);
        return response;
    }

    public async ValueTask<IsoMessage?> OnRequestAsync(IsoPeer peer, IsoMessage request, CancellationToken ct)
    {
        Received.Enqueue(request);
        if (request.Mti.Class == 4)
        {
            return AckReversals ? Respond(request) : null;
        }

        if (!Answer)
        {
            return null;
        }

        if (Hold)
        {
            var answer = new TaskCompletionSource<IsoMessage?>(TaskCreationOptions.RunContinuationsAsynchronously);
            _held.Enqueue((request, answer));
            return await answer.Task;
        }

        if (Delay > TimeSpan.Zero)
        {
            await Task.Delay(Delay, ct);
        }

        return Respond(request);
    }

    public void OnUnmatchedResponse(IsoPeer peer, IsoMessage response) => Unmatched.Enqueue(response);

    /// <summary>Answers every held request, in the order given by <paramref name="order"/> (default: as received).</summary>
    public int ReleaseAll(Func<IEnumerable<(IsoMessage Request, TaskCompletionSource<IsoMessage?> Answer)>, IEnumerable<(IsoMessage Request, TaskCompletionSource<IsoMessage?> Answer)>>? order = null)
    {
        var all = new List<(IsoMessage, TaskCompletionSource<IsoMessage?>)>();
        while (_held.TryDequeue(out var h))
        {
            all.Add(h);
        }

        foreach (var (request, answer) in order?.Invoke(all) ?? all)
        {
            answer.TrySetResult(Respond(request));
        }

        return all.Count;
    }

    public async Task WaitHeldAsync(int count, TimeSpan? timeout = null)
    {
        await Eventually.TrueAsync(() => _held.Count >= count, timeout ?? TimeSpan.FromSeconds(10), $"{count} requests held");
    }

    public ValueTask DisposeAsync()
    {
        ReleaseAll();
        return Server.DisposeAsync();
    }
}

internal static class Links
{
    public static IsoClientOptions Options(string server, Action<IsoClientOptions>? configure = null)
    {
        var options = new IsoClientOptions
        {
            Name = "bank",
            Server = server,
            InstitutionId = "12345",
            RequestTimeout = TimeSpan.FromSeconds(10),
            EchoInterval = TimeSpan.FromMinutes(1),
            ReconnectInitialDelay = TimeSpan.FromMilliseconds(50),
            ReconnectMaxDelay = TimeSpan.FromMilliseconds(400),
            DrainTimeout = TimeSpan.FromSeconds(5),
        };
        configure?.Invoke(options);
        return options;
    }

    public static async Task<IsoClient> ConnectAsync(string server, Action<IsoClientOptions>? configure = null, IInboundHandler? inbound = null)
    {
        var client = new IsoClient(Options(server, configure), inbound);
        client.Start();
        await Eventually.TrueAsync(() => client.State == ConnectionState.SignedOn, TimeSpan.FromSeconds(10), "signed on");
        return client;
    }
}

internal static class Eventually
{
    public static async Task TrueAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var until = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > until)
            {
                throw new TimeoutException($"not {what} within {timeout.TotalSeconds:F1} s");
            }

            await Task.Delay(50);
        }
    }

    public static async Task TrueAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var until = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > until)
            {
                throw new TimeoutException($"not {what} within {timeout.TotalSeconds:F1} s");
            }

            await Task.Delay(10);
        }
    }
}

internal sealed class StateLog
{
    private readonly ConcurrentQueue<ConnectionStateChanged> _changes = new();

    public StateLog(IsoClient client) => client.StateChanged += _changes.Enqueue;

    public IReadOnlyList<ConnectionStateChanged> Changes => [.. _changes];

    public bool Saw(ConnectionState state) => _changes.Any(c => c.Current == state);
}
