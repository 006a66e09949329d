using System.CommandLine;
using System.Text.Json.Nodes;
using OrleansControl.Occtl.Output;
using Spectre.Console;

namespace OrleansControl.Occtl.Config;

/// <summary><c>occtl config get-contexts | current-context | use-context NAME</c>: the config file's contexts.</summary>
internal static class ConfigCommands
{
    public static Command Create(CommandFactory f)
    {
        var config = f.Group("config", """
            Named contexts (kubectl-style), one per gateway: get-contexts, current-context, use-context NAME
            The config file (~/.config/occtl/config.json, or --config / OCCTL_CONFIG):
            {
              "currentContext": "bank",
              "contexts": {
                "bank":   { "gateway": "https://controller.bank.example:9090", "trustedCa": "bank-ca.pem",
                            "clientCertificate": "alice.pfx", "clientCertificatePassword": "..." },
                "scheme": { "gateway": "https://controller.scheme.example:9090", "tokenFile": "scheme.token",
                            "pools": ["scheme"] }
              }
            }
            Relative paths are relative to the file. A flag or OCCTL_* variable overrides the context's setting.
            """);

        config.Add(f.Command("get-contexts", "List the contexts (never their secrets)", (s, _) =>
        {
            var path = ConfigPath.Resolve(s.Value(s.Options.ConfigFile), s.Host);
            var file = OcctlConfigFile.Load(path) ?? new OcctlConfigFile();
            var current = s.Value(s.Options.Context) ?? s.Host.Env("OCCTL_CONTEXT") ?? file.CurrentContext;
            PrintContexts(s.Host, s.Output, file, current, path);
            return Task.FromResult(ExitCodes.Ok);
        }));

        config.Add(f.Command("current-context", "Print the context in use", (s, _) =>
        {
            var path = ConfigPath.Resolve(s.Value(s.Options.ConfigFile), s.Host);
            var current = s.Value(s.Options.Context) ?? s.Host.Env("OCCTL_CONTEXT") ?? OcctlConfigFile.Load(path)?.CurrentContext;
            if (current is null) throw new OcctlException(ExitCodes.NotFound, $"no current context (config {path.Path})");
            s.Host.Output.WriteLine(current);
            return Task.FromResult(ExitCodes.Ok);
        }));

        var name = new Argument<string>("name") { Description = "The context to make current" };
        var use = f.Command("use-context", "Make a context the current one (writes currentContext, keeps the rest of the file)", (s, _) =>
        {
            var path = ConfigPath.Resolve(s.Value(s.Options.ConfigFile), s.Host);
            var file = OcctlConfigFile.Load(path) ?? throw new OcctlException(ExitCodes.NotFound, $"no config file at {path.Path}");
            var wanted = s.Value(name);
            if (!file.Contexts.ContainsKey(wanted))
            {
                var known = file.Contexts.Count == 0 ? "it has none" : "known: " + string.Join(", ", file.Contexts.Keys.Order());
                throw new OcctlException(ExitCodes.NotFound, $"context '{wanted}': not in {path.Path} ({known})");
            }
            OcctlConfigFile.SetCurrentContext(path, wanted);
            s.Host.Output.WriteLine($"Switched to context \"{wanted}\".");
            return Task.FromResult(ExitCodes.Ok);
        });
        use.Add(name);
        config.Add(use);
        return config;
    }

    private static void PrintContexts(OcctlHost host, OutputFormat format, OcctlConfigFile file, string? current, ConfigPath path)
    {
        var rows = file.Contexts.OrderBy(c => c.Key, StringComparer.Ordinal).ToList();
        if (format != OutputFormat.Table)
        {
            var array = new JsonArray();
            foreach (var (name, c) in rows)
            {
                array.Add(new JsonObject
                {
                    ["name"] = name,
                    ["current"] = name == current,
                    ["gateway"] = c.Gateway,
                    ["auth"] = Auth(c),
                    ["trustedCa"] = c.TrustedCa,
                });
            }
            StructuredOutput.Write(host.Output, new JsonObject { ["contexts"] = array }, format);
            return;
        }
        if (rows.Count == 0)
        {
            host.Error.WriteLine($"No contexts in {path.Path}.");
            return;
        }
        var table = Tables.New("CURRENT", "NAME", "GATEWAY", "AUTH", "CA");
        foreach (var (name, c) in rows)
        {
            table.AddRow(Tables.Cell(name == current ? "*" : " "), Tables.Cell(name), Tables.Cell(c.Gateway ?? GatewaySettings.DevelopmentGateway.ToString()),
                Tables.Cell(Auth(c)), Tables.Cell(c.TrustedCa));
        }
        Tables.Print(host, table);
    }

    private static string Auth(OcctlContext c) => (c.Token ?? c.TokenFile, c.ClientCertificate) switch
    {
        (not null, not null) => "token+certificate",
        (not null, null) => "token",
        (null, not null) => "certificate",
        _ => "none",
    };
}
