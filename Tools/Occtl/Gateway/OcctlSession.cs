using System.CommandLine;
using Grpc.Core;
using OrleansControl.Contract.V1;
using OrleansControl.Occtl.Config;
using OrleansControl.Occtl.Output;
using Spectre.Console;

namespace OrleansControl.Occtl.Gateway;

/// <summary>One command's view of the world: its parsed options, the gateway (opened on first use) and the output.</summary>
internal sealed class OcctlSession(OcctlHost host, ParseResult parse, GlobalOptions options) : IDisposable
{
    private GatewaySettings? _settings;
    private GatewayChannel? _channel;

    public OcctlHost Host => host;

    public ParseResult Parse => parse;

    public GlobalOptions Options => options;

    public IAnsiConsole Console => host.Console;

    public OutputFormat Output => options.OutputOf(parse);

    public GatewaySettings Settings => _settings ??= GatewaySettings.Resolve(parse, options, host);

    private GatewayChannel Channel => _channel ??= GatewayChannel.Open(Settings);

    public ControllerService.ControllerServiceClient Controller => Channel.Controller;

    public ServerPoolService.ServerPoolServiceClient Pools => Channel.Pools;

    public T Value<T>(Option<T> option) => parse.GetValue(option)!;

    public T Value<T>(Argument<T> argument) => parse.GetValue(argument)!;

    /// <summary>One unary call with the request deadline; a failure becomes the line and exit code occtl reports.</summary>
    public async Task<T> CallAsync<T>(string name, Func<CallOptions, AsyncUnaryCall<T>> call, CancellationToken ct)
    {
        try
        {
            return await call(new CallOptions(deadline: DateTime.UtcNow + Settings.RequestTimeout, cancellationToken: ct));
        }
        catch (RpcException e) when (!ct.IsCancellationRequested)
        {
            throw Failure(e, name);
        }
    }

    public OcctlException Failure(RpcException e, string call) => RpcFailure.From(e, call, Settings.Gateway, Settings.RequestTimeout);

    /// <summary>Every page of a listing (the gateway answers at most 1000 per call).</summary>
    public async Task<List<Connection>> ListAllAsync(ListConnectionsRequest request, CancellationToken ct)
    {
        var all = new List<Connection>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (true)
        {
            var page = await CallAsync("ListConnections", o => Controller.ListConnectionsAsync(request, o), ct);
            all.AddRange(page.Connections);
            if (page.NextPageToken.Length == 0) return all;
            if (!seen.Add(page.NextPageToken))
            {
                throw new OcctlException(ExitCodes.CallFailed, $"ListConnections: the gateway returned page token '{page.NextPageToken}' twice");
            }
            request = request.Clone();
            request.PageToken = page.NextPageToken;
        }
    }

    /// <summary>A note for the person at the terminal (standard error, so it never mixes with JSON on standard output).</summary>
    public void Note(string text) => host.Error.WriteLine(text);

    public void Dispose() => _channel?.Dispose();
}
