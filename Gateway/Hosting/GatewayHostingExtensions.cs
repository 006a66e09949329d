using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Certificate;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using OrleansControl.Gateway.Errors;
using OrleansControl.Gateway.Regions;
using OrleansControl.Gateway.Security;
using OrleansControl.Gateway.Services;
using OrleansControl.Gateway.Sidecars;
using OrleansControl.Gateway.Ui;

namespace OrleansControl.Gateway.Hosting;

/// <summary>
/// How a host (the silo co-hosting the gateway, or a stand-alone gateway running an Orleans client) composes the
/// gateway. The host calls <see cref="AddControllerGateway"/> before Build and <see cref="MapControllerGateway"/> after.
/// The host must provide IClusterClient (a silo or UseOrleansClient).
/// </summary>
public static class GatewayHostingExtensions
{
    public static WebApplicationBuilder AddControllerGateway(this WebApplicationBuilder builder) => builder.AddControllerGateway(null);

    /// <param name="configure">Applied after configuration binding (in-process certificates, test ports).</param>
    public static WebApplicationBuilder AddControllerGateway(this WebApplicationBuilder builder, Action<GatewayOptions>? configure)
    {
        var services = builder.Services;
        var optionsBuilder = services.AddOptions<GatewayOptions>().BindConfiguration(GatewayOptions.SectionName);
        // One region setting for the whole process: the silo's Controller:Region unless Gateway:Region says otherwise.
        var siloRegion = builder.Configuration["Controller:Region"];
        if (builder.Configuration[$"{GatewayOptions.SectionName}:Region"] is null && !string.IsNullOrEmpty(siloRegion))
        {
            optionsBuilder.Configure(o => o.Region = siloRegion);
        }
        // One heartbeat interval too: the one the grains judge timeouts by is the one sidecars are told to keep.
        if (builder.Configuration[$"{GatewayOptions.SectionName}:HeartbeatInterval"] is null
            && TimeSpan.TryParse(builder.Configuration["Controller:Health:HeartbeatInterval"], System.Globalization.CultureInfo.InvariantCulture, out var interval))
        {
            optionsBuilder.Configure(o => o.HeartbeatInterval = interval);
        }
        if (configure is not null) optionsBuilder.Configure(configure);
        optionsBuilder.ValidateOnStart();
        services.AddSingleton<IValidateOptions<GatewayOptions>>(GatewayOptionsValidator.Keyed);
        // Read once here for Kestrel and authentication; the validator still runs at start.
        var options = builder.Configuration.GetSection(GatewayOptions.SectionName).Get<GatewayOptions>() ?? new GatewayOptions();
        if (builder.Configuration[$"{GatewayOptions.SectionName}:Region"] is null && !string.IsNullOrEmpty(siloRegion)) options.Region = siloRegion;
        configure?.Invoke(options);

        services.AddOptions<UiOptions>().BindConfiguration(UiOptions.SectionName).ValidateOnStart();
        services.AddSingleton(UiOptionsValidator.Keyed);
        services.AddSingleton<UiViewReader>();
        services.AddSingleton<GatewayAuthorizer>();
        services.AddSingleton<RegistrySync>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<PeerLink>();
        services.AddSingleton<PeerOutbox>();
        services.AddSingleton<PeerAssignments>();
        services.AddSingleton<PeerRedisReplica>();
        services.AddSingleton<RegionSyncService>();
        services.AddSingleton<PeerSessionRelay>();
        services.AddSingleton<LiveGateways>();
        services.AddHostedService(sp => sp.GetRequiredService<LiveGateways>());
        services.AddHostedService(sp => sp.GetRequiredService<RegionSyncService>());
        services.AddHostedService(sp => sp.GetRequiredService<PeerSessionRelay>());
        services.AddGrpc(o =>
        {
            o.EnableDetailedErrors = false;
            o.Interceptors.Add<ErrorMappingInterceptor>();
        }).AddJsonTranscoding();
        services.AddGrpcHealthChecks().AddCheck<ClusterHealthCheck>("cluster");
        services.AddGrpcReflection();

        services.AddAuthentication(GatewayAuthentication.PolicyScheme)
            .AddPolicyScheme(GatewayAuthentication.PolicyScheme, "certificate or bearer", o =>
                o.ForwardDefaultSelector = ctx => ctx.Connection.ClientCertificate is not null
                    ? CertificateAuthenticationDefaults.AuthenticationScheme
                    : BearerTokenHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, BearerTokenHandler>(BearerTokenHandler.SchemeName, null)
            .AddCertificate(o => GatewayAuthentication.ConfigureCertificates(o, options));
        services.AddAuthorization(GatewayPolicies.Add);
        services.AddSingleton<IAuthorizationHandler, CallerRoleHandler>();
        services.AddSingleton<IAuthorizationHandler, OwnerHandler>();
        services.AddSingleton<IAuthorizationHandler, ServerPoolDeclarationHandler>();
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, GatewayAuthorizationResultHandler>();

        if (options.ConfigureKestrel)
        {
            builder.WebHost.ConfigureKestrel(kestrel => ConfigureEndpoints(kestrel, options));
        }
        return builder;
    }

    /// <summary>
    /// What is wrong with the gateway's settings in <paramref name="configuration"/>, read as <see cref="AddControllerGateway(WebApplicationBuilder)"/>
    /// reads them; empty when they are fine. For a host that reports every bad setting at once before it starts.
    /// </summary>
    public static IReadOnlyList<string> SettingsProblems(IConfiguration configuration)
    {
        var problems = new List<string>();
        try
        {
            var options = configuration.GetSection(GatewayOptions.SectionName).Get<GatewayOptions>() ?? new GatewayOptions();
            if (configuration[$"{GatewayOptions.SectionName}:Region"] is null && configuration["Controller:Region"] is { Length: > 0 } siloRegion)
                options.Region = siloRegion;
            var result = GatewayOptionsValidator.Keyed.Validate(null, options);
            if (result.Failed) problems.AddRange(result.Failures);
        }
        catch (InvalidOperationException ex)
        {
            problems.Add(ex.Message);
        }
        try
        {
            // The web view's section too: every bad setting in one refusal, not the gateway's first and the page's next time.
            var ui = configuration.GetSection(UiOptions.SectionName).Get<UiOptions>() ?? new UiOptions();
            var result = UiOptionsValidator.Keyed.Validate(null, ui);
            if (result.Failed) problems.AddRange(result.Failures);
        }
        catch (InvalidOperationException ex)
        {
            problems.Add(ex.Message);
        }
        return problems;
    }

    public static WebApplication MapControllerGateway(this WebApplication app)
    {
        app.UseAuthentication();
        app.UseAuthorization();
        // After authorization: an unauthenticated caller is answered 401 whatever its body or query says.
        app.UseRestBodyValidation();
        app.UseRestQueryValidation();
        app.MapGrpcService<ControllerGrpcService>();
        app.MapGrpcService<ServerPoolGrpcService>();
        app.MapGrpcService<SidecarGrpcService>();
        app.MapGrpcHealthChecksService();
        app.MapGrpcReflectionService();
        if (app.Services.GetRequiredService<IOptions<UiOptions>>().Value.Enabled)
        {
            app.MapControllerUi();
            // The silos run Orleans' dashboard when asked (Silo: Controller:Dashboard); a co-hosted gateway shows it.
            if (app.Configuration.GetValue<bool>("Controller:Dashboard")) app.MapOrleansDashboardForOperators();
        }
        return app;
    }

    private static void ConfigureEndpoints(KestrelServerOptions kestrel, GatewayOptions options)
    {
        var address = options.BindAddress == "localhost" ? IPAddress.Loopback : IPAddress.Parse(options.BindAddress);
        var serverCertificate = GatewayAuthentication.LoadServerCertificate(options.Tls);
        kestrel.Listen(address, options.GrpcPort, listen =>
        {
            listen.Protocols = HttpProtocols.Http2;
            UseTls(listen, serverCertificate);
        });
        kestrel.Listen(address, options.RestPort, listen =>
        {
            listen.Protocols = serverCertificate is null ? HttpProtocols.Http1 : HttpProtocols.Http1AndHttp2;
            UseTls(listen, serverCertificate);
        });
    }

    private static void UseTls(ListenOptions listen, X509Certificate2? certificate)
    {
        if (certificate is null) return;
        listen.UseHttps(new HttpsConnectionAdapterOptions
        {
            ServerCertificate = certificate,
            // Bearer-token callers bring no certificate; those who do are checked by the authentication handler.
            ClientCertificateMode = ClientCertificateMode.AllowCertificate,
            ClientCertificateValidation = (_, _, _) => true,
        });
    }
}
