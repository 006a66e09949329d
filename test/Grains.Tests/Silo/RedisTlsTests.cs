using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Models;
using OrleansControl.Gateway.Tests.Infrastructure;
using OrleansControl.Grains.Tests.Infrastructure;

namespace OrleansControl.Grains.Tests.Silo;

/// <summary>
/// The silo on a real redis-server that listens on TLS alone, requires a client certificate from its CA and a
/// password: membership, grain storage, reminders and the projection all go through <c>Controller:RedisTls</c>.
/// And the rule for a Redis off loopback: TLS and AUTH, or the silo does not start.
/// </summary>
public sealed class RedisTlsTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("oc-redis-tls-");
    private readonly TestCertificates _ca = new("Redis CA");

    [Fact]
    public async Task The_silo_keeps_membership_state_reminders_and_projection_in_a_tls_only_redis_with_a_client_certificate()
    {
        await using var redis = await RedisServer.StartAsync(ServerTls("redis-password"));
        var settings = Settings(redis, "redis-password");
        await using var app = SiloHost.Build(settings);
        await app.StartAsync();

        var grains = app.Services.GetRequiredService<IGrainFactory>();
        await Scenario.TwoZonePoolAsync(grains, out var poolId);
        var connection = await Scenario.ActiveAsync(grains, poolId);

        Assert.Contains("redis-tls", await redis.CliAsync("--scan", "--pattern", "*members*"), StringComparison.Ordinal);
        Assert.Contains("/state/", await redis.CliAsync("--scan", "--pattern", "*state*"), StringComparison.Ordinal);
        Assert.NotEmpty((await redis.CliAsync("--scan", "--pattern", "*reminder*")).Trim());
        Assert.Contains("active", await redis.CliAsync("HGET", $"connections:{connection.GetPrimaryKeyString()}", "status"), StringComparison.Ordinal);
        Assert.Equal(ConnectionStatus.Active, (await connection.GetState()).Status);
        await app.StopAsync();
    }

    [Fact]
    public async Task Without_its_client_certificate_the_silo_cannot_reach_the_tls_redis()
    {
        await using var redis = await RedisServer.StartAsync(ServerTls("redis-password"));
        var settings = Settings(redis, "redis-password");
        settings.Remove("Controller:RedisTls:CertificatePath");
        settings.Remove("Controller:RedisTls:KeyPath");
        settings["Controller:Redis"] += ",connectTimeout=2000";

        await using var app = SiloHost.Build(settings);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => app.StartAsync(timeout.Token));
        Assert.IsNotType<OperationCanceledException>(failure);
        Assert.DoesNotContain("redis-tls", await redis.CliAsync("--scan", "--pattern", "*members*"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("redis.internal:6379,password=x", "without TLS (Controller:RedisTls:Enabled=true, or ssl=true in Controller:Redis)")]
    [InlineData("redis.internal:6379,ssl=true", "without AUTH (password=… in Controller:Redis)")]
    [InlineData("10.0.3.4:6379", "without TLS (Controller:RedisTls:Enabled=true, or ssl=true in Controller:Redis) and AUTH")]
    public void A_redis_off_loopback_without_tls_and_auth_stops_start_up(string connectionString, string expected)
    {
        var settings = SiloHost.Ports();
        settings["Controller:Storage"] = "redis";
        settings["Controller:Redis"] = connectionString;

        var error = Assert.ThrowsAny<OptionsValidationException>(() => SiloHost.Build(settings));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Contains("Controller:RedisTls:AllowInsecure=true", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("password=x", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("redis.internal:6379,ssl=true,password=REPLACE-ME-run-deploy-make-secrets.sh")]
    [InlineData("127.0.0.1:6379,password=REPLACE-ME-run-deploy-make-secrets.sh")]
    public void The_placeholder_password_committed_in_deploy_stops_start_up_even_on_loopback(string connectionString)
    {
        var settings = SiloHost.Ports();
        settings["Controller:Storage"] = "redis";
        settings["Controller:Redis"] = connectionString;

        var error = Assert.ThrowsAny<OptionsValidationException>(() => SiloHost.Build(settings));
        Assert.Contains("Controller:Redis carries the placeholder password shipped in deploy/overlays/*/secrets/redis.env", error.Message, StringComparison.Ordinal);
        Assert.Contains("deploy/make-secrets.sh", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("redis.internal:6379,ssl=true,password=x", null)]
    [InlineData("redis.internal:6379,password=x", "true")]
    [InlineData("localhost:6379", null)]
    [InlineData("127.0.0.1:6379", null)]
    public void A_redis_with_tls_and_auth_or_on_loopback_is_accepted(string connectionString, string? redisTlsEnabled)
    {
        var settings = SiloHost.Ports();
        settings["Controller:Storage"] = "redis";
        settings["Controller:Redis"] = connectionString + ",abortConnect=false";
        settings["Controller:RedisTls:Enabled"] = redisTlsEnabled;
        using var app = SiloHost.Build(settings);
    }

    [Fact]
    public void An_insecure_remote_redis_may_be_allowed_explicitly_and_tls_files_are_checked()
    {
        var settings = SiloHost.Ports();
        settings["Controller:Storage"] = "redis";
        settings["Controller:Redis"] = "redis.internal:6379,abortConnect=false";
        settings["Controller:RedisTls:AllowInsecure"] = "true";
        using (SiloHost.Build(settings))
        {
        }

        settings["Controller:RedisTls:Enabled"] = "true";
        settings["Controller:RedisTls:CaPath"] = "/nonexistent/ca.crt";
        Assert.Contains("Controller:RedisTls:CaPath '/nonexistent/ca.crt' does not exist",
            Assert.ThrowsAny<OptionsValidationException>(() => SiloHost.Build(settings)).Message, StringComparison.Ordinal);
        settings["Controller:RedisTls:CaPath"] = null;
        settings["Controller:RedisTls:CertificatePath"] = Pem("lonely.crt", _ca.Ca);
        Assert.Contains("Controller:RedisTls:CertificatePath and KeyPath go together",
            Assert.ThrowsAny<OptionsValidationException>(() => SiloHost.Build(settings)).Message, StringComparison.Ordinal);
    }

    private Dictionary<string, string?> Settings(RedisServer redis, string password)
    {
        using var client = _ca.IssueClient("orleanscontrol-controller", "silo");
        var settings = SiloHost.Ports();
        settings["Controller:Clustering"] = "redis";
        settings["Controller:Storage"] = "redis";
        settings["Controller:Redis"] = $"127.0.0.1:{redis.Port},password={password},abortConnect=false,connectRetry=5";
        settings["Controller:AdvertisedAddress"] = "127.0.0.1";
        settings["Controller:ClusterId"] = "redis-tls";
        settings["Controller:RedisTls:Enabled"] = "true";
        settings["Controller:RedisTls:Host"] = "localhost";
        settings["Controller:RedisTls:CaPath"] = Pem("ca.crt", _ca.Ca);
        settings["Controller:RedisTls:CertificatePath"] = Pem("client.crt", client);
        settings["Controller:RedisTls:KeyPath"] = Key("client.key", client);
        return settings;
    }

    private RedisServerTls ServerTls(string password)
    {
        using var server = _ca.IssueServer("localhost");
        using var client = _ca.IssueClient("redis-cli", "test");
        return new RedisServerTls(Pem("server.crt", server), Key("server.key", server), Pem("ca.crt", _ca.Ca), password,
            Pem("cli.crt", client), Key("cli.key", client));
    }

    private string Pem(string name, X509Certificate2 certificate) => Write(name, certificate.ExportCertificatePem());

    private string Key(string name, X509Certificate2 certificate) => Write(name, certificate.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir.FullName, name);
        File.WriteAllText(path, text);
        return path;
    }

    public void Dispose()
    {
        _ca.Dispose();
        _dir.Delete(recursive: true);
    }
}
