using System.Diagnostics;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using OrleansControl.Benchmarks.Shared;
using OrleansControl.Contract.V1;
using OrleansControl.Gateway.Tests.Infrastructure;

namespace OrleansControl.Benchmarks.Gateway;

/// <summary>
/// Two regions (bank and scheme controllers, in process, mTLS between their gateways through forwarders) cut
/// over and over. Each cut: changes on both sides while apart (a close each side, a bank registration from the
/// mirror), the link held down, then restored; the time from restore until both registries agree (version, status,
/// server of every changed connection, on both sides) is one sample. Half the cuts refuse connections, half
/// black-hole them. Also reports how long the registration made during a black hole took.
/// </summary>
public sealed class RegionConvergenceTool : ILoadTool
{
    private const string OperatorToken = "bench-operator-token";
    private static readonly Metadata Operator = new() { { "authorization", $"Bearer {OperatorToken}" } };

    public string Name => "region-convergence";

    public string Description => "time from the peer link's return to agreement of both registries (--cuts 20 --cut-seconds 3)";

    public async Task<int> RunAsync(string[] args)
    {
        var cuts = ToolArgs.Int(args, "--cuts", 20);
        var cutSeconds = ToolArgs.Int(args, "--cut-seconds", 3);

        using var certs = new TestCertificates();
        var bankPort = FreePort.Next();
        var schemePort = FreePort.Next();
        await using var toScheme = new CuttableLink(schemePort);
        await using var toBank = new CuttableLink(bankPort);
        var (scheme, _) = await StartAsync(certs, "scheme-eu", schemePort, "bank-eu", toBank.Port, ownsPools: false);
        await using var schemeApp = scheme;
        var (bank, _) = await StartAsync(certs, "bank-eu", bankPort, "scheme-eu", toScheme.Port, ownsPools: true);
        await using var bankApp = bank;

        var bankApi = new ControllerService.ControllerServiceClient(Channel(bankPort, certs.Ca));
        var schemeApi = new ControllerService.ControllerServiceClient(Channel(schemePort, certs.Ca));
        var schemePools = new ServerPoolService.ServerPoolServiceClient(Channel(schemePort, certs.Ca));
        foreach (var (id, zone) in new[] { ("visa-1", "zone-a"), ("visa-2", "zone-b") })
        {
            await schemePools.AddServerAsync(new AddServerRequest
            {
                ServerPool = "visa",
                Server = new ServerInstance { ServerId = id, Address = $"{id}.scheme.example:5000", Zone = zone, Capacity = 10_000 },
            }, Operator);
        }

        var samples = new Dictionary<string, List<double>> { ["refused"] = [], ["black hole"] = [] };
        var registrations = new Dictionary<string, List<double>> { ["refused"] = [], ["black hole"] = [] };
        for (var n = 0; n < cuts; n++)
        {
            var fault = n % 2 == 0 ? "refused" : "black hole";
            var bankOwned = (await bankApi.RegisterConnectionAsync(new RegisterConnectionRequest { ClientId = $"acq-{n}", ServerPool = "visa" }, Operator)).Connection;
            var schemeOwned = (await schemeApi.RegisterConnectionAsync(new RegisterConnectionRequest { ClientId = $"iss-{n}", ServerPool = "visa" }, Operator)).Connection;
            await Until(() => Agree(bankApi, schemeApi, [bankOwned.ConnectionId, schemeOwned.ConnectionId]), TimeSpan.FromSeconds(30));

            if (fault == "refused")
            {
                toScheme.Cut();
                toBank.Cut();
            }
            else
            {
                toScheme.BlackHole();
                toBank.BlackHole();
            }
            await Close(bankApi, bankOwned);
            await Close(schemeApi, schemeOwned);
            var clock = Stopwatch.StartNew();
            var during = (await bankApi.RegisterConnectionAsync(new RegisterConnectionRequest { ClientId = $"acq-cut-{n}", ServerPool = "visa" }, Operator)).Connection;
            registrations[fault].Add(clock.Elapsed.TotalMilliseconds);
            await Task.Delay(TimeSpan.FromSeconds(cutSeconds));

            toScheme.Restore();
            toBank.Restore();
            clock.Restart();
            string[] ids = [bankOwned.ConnectionId, schemeOwned.ConnectionId, during.ConnectionId];
            await Until(async () => await Agree(bankApi, schemeApi, ids)
                && (await Get(schemeApi, bankOwned.ConnectionId))?.Status == ConnectionStatus.Closed
                && (await Get(bankApi, schemeOwned.ConnectionId))?.Status == ConnectionStatus.Closed, TimeSpan.FromSeconds(60));
            var ms = clock.Elapsed.TotalMilliseconds;
            samples[fault].Add(ms);
            Console.WriteLine($"cut {n + 1,3} ({fault,-10}): agreement {ms,7:F0} ms after the return; registration during the cut {registrations[fault][^1],6:F0} ms");
        }

        Console.WriteLine();
        Console.WriteLine($"region-convergence: {cuts} cuts of {cutSeconds} s, link settings at their defaults");
        foreach (var (fault, values) in samples)
        {
            Console.WriteLine($"  {fault,-10} link return -> agreement   n={values.Count,3}  {Summary(values)}");
        }
        foreach (var (fault, values) in registrations)
        {
            Console.WriteLine($"  {fault,-10} registration during cut n={values.Count,3}  {Summary(values)}");
        }
        return 0;
    }

    private static string Summary(List<double> values) => values.Count == 0 ? "-"
        : $"min {values.Min(),6:F0}  p50 {Percentile(values, 0.5),6:F0}  p99 {Percentile(values, 0.99),6:F0}  max {values.Max(),6:F0} ms";

    private static double Percentile(List<double> values, double p)
    {
        var sorted = values.Order().ToList();
        return sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
    }

    private static async Task<(WebApplication App, int Port)> StartAsync(TestCertificates certs, string region, int port,
        string peerRegion, int peerPort, bool ownsPools)
    {
        var server = certs.IssueServer();
        var client = certs.IssueClient(region, "peer");
        var settings = new Dictionary<string, string?>
        {
            ["Controller:Region"] = region,
            ["Gateway:Auth:AllowAnonymous"] = "false",
            ["Gateway:Auth:Tokens:0:Subject"] = "bench",
            ["Gateway:Auth:Tokens:0:Role"] = "operator",
            ["Gateway:Auth:Tokens:0:Sha256"] = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(OperatorToken))),
        };
        return await InProcessController.StartAsync(settings, configureGateway: o =>
        {
            o.Tls.ServerCertificate = server;
            o.Tls.ClientCa = [certs.Ca];
            o.Peer.TrustedCa = [certs.Ca];
            o.Peer.Address = $"https://localhost:{peerPort}";
            o.Peer.Region = peerRegion;
            o.Peer.ClientCertificate = client;
            o.Peer.OwnsServerPools = ownsPools;
        }, grpcPort: port);
    }

    private static GrpcChannel Channel(int port, X509Certificate2 ca) => GrpcChannel.ForAddress($"https://localhost:{port}", new GrpcChannelOptions
    {
        HttpHandler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, cert, _, errors) =>
                {
                    if (cert is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0) return false;
                    using var chain = new X509Chain();
                    chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                    chain.ChainPolicy.CustomTrustStore.Add(ca);
                    chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                    using var presented = X509CertificateLoader.LoadCertificate(cert.GetRawCertData());
                    return chain.Build(presented);
                },
            },
        },
    });

    private static async Task<Connection?> Get(ControllerService.ControllerServiceClient api, string id)
    {
        try
        {
            return await api.GetConnectionAsync(new GetConnectionRequest { ConnectionId = id }, Operator);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
        {
            return null;
        }
    }

    private static async Task<bool> Agree(ControllerService.ControllerServiceClient a, ControllerService.ControllerServiceClient b, string[] ids)
    {
        foreach (var id in ids)
        {
            var (x, y) = (await Get(a, id), await Get(b, id));
            if (x is null || y is null || x.Version != y.Version || x.Status != y.Status || x.ServerId != y.ServerId) return false;
        }
        return true;
    }

    private static Task Close(ControllerService.ControllerServiceClient api, Connection c) =>
        api.UpdateConnectionStateAsync(new UpdateConnectionStateRequest
        {
            ConnectionId = c.ConnectionId,
            State = ConnectionStatus.Closed,
            ExpectedVersion = c.Version,
        }, Operator).ResponseAsync;

    private static async Task Until(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (!await condition())
        {
            if (deadline.Elapsed > timeout) throw new TimeoutException("the registries did not agree in time");
            await Task.Delay(20);
        }
    }
}
