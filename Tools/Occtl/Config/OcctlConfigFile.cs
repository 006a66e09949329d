using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace OrleansControl.Occtl.Config;

/// <summary>
/// <c>~/.config/occtl/config.json</c>: named contexts (kubectl-style), one per region's gateway, and the current one.
/// Unknown fields are refused so a misspelt <c>"tokne"</c> does not silently mean "no token".
/// </summary>
internal sealed class OcctlConfigFile
{
    public string? CurrentContext { get; set; }

    public Dictionary<string, OcctlContext> Contexts { get; set; } = new(StringComparer.Ordinal);

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        WriteIndented = true,
    };

    /// <summary>Reads the file; null when it does not exist and nobody asked for it by name.</summary>
    public static OcctlConfigFile? Load(ConfigPath path)
    {
        if (!File.Exists(path.Path))
        {
            if (path.Explicit) throw new OcctlException(ExitCodes.Usage, $"config {path.Path}: no such file ({path.Origin})");
            return null;
        }
        try
        {
            var file = JsonSerializer.Deserialize<OcctlConfigFile>(File.ReadAllText(path.Path), Json) ?? new OcctlConfigFile();
            file.Contexts ??= new(StringComparer.Ordinal);
            return file;
        }
        catch (JsonException e)
        {
            var where = e.LineNumber is { } line ? $"line {line + 1}: " : "";
            throw new OcctlException(ExitCodes.Usage, $"config {path.Path}: {where}{FirstSentence(e.Message)}");
        }
        catch (IOException e)
        {
            throw new OcctlException(ExitCodes.Usage, $"config {path.Path}: {e.Message}");
        }
    }

    /// <summary>Sets <c>currentContext</c> and leaves everything else in the file as it was.</summary>
    public static void SetCurrentContext(ConfigPath path, string name)
    {
        var root = JsonNode.Parse(File.ReadAllText(path.Path), documentOptions: new JsonDocumentOptions
        {
            CommentHandling = JsonCommentHandling.Skip,
            AllowTrailingCommas = true,
        })!.AsObject();
        root["currentContext"] = name;
        var temp = path.Path + ".tmp";
        File.WriteAllText(temp, root.ToJsonString(Json) + "\n");
        File.Move(temp, path.Path, overwrite: true);
    }

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(". Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }
}

/// <summary>One gateway and how to authenticate to it. Relative paths are relative to the config file.</summary>
internal sealed class OcctlContext
{
    /// <summary>The gateway's gRPC address, e.g. <c>https://controller.bank.example:9090</c>.</summary>
    public string? Gateway { get; set; }

    /// <summary>A bearer token; prefer <see cref="TokenFile"/> so the config file holds no secret.</summary>
    public string? Token { get; set; }

    public string? TokenFile { get; set; }

    /// <summary>A client certificate with its key (PFX). Its CN is the caller's identity, its OU the role.</summary>
    public string? ClientCertificate { get; set; }

    public string? ClientCertificatePassword { get; set; }

    /// <summary>PEM bundle of the private CA that signed the gateway's certificate.</summary>
    public string? TrustedCa { get; set; }

    /// <summary>Per-call deadline: <c>10s</c>, <c>500ms</c>, <c>1m</c>.</summary>
    public string? RequestTimeout { get; set; }

    /// <summary>Pools <c>occtl pools</c> shows even when no connection names them (the contract cannot list pools).</summary>
    public List<string>? Pools { get; set; }
}

/// <summary>Where the config file is, and whether someone named it (then it must exist).</summary>
internal sealed record ConfigPath(string Path, bool Explicit, string Origin)
{
    public static ConfigPath Resolve(string? flag, OcctlHost host)
    {
        if (flag is not null) return new ConfigPath(Expand(flag, host), true, "--config");
        if (host.Env("OCCTL_CONFIG") is { } env) return new ConfigPath(Expand(env, host), true, "OCCTL_CONFIG");
        var configHome = host.Env("XDG_CONFIG_HOME") ?? System.IO.Path.Combine(host.HomeDirectory, ".config");
        return new ConfigPath(System.IO.Path.Combine(configHome, "occtl", "config.json"), false, "default");
    }

    /// <summary>A path from the file: <c>~/</c> is the home directory, a relative path is relative to the file.</summary>
    public string ResolveRelative(string value, OcctlHost host)
    {
        var expanded = Expand(value, host);
        return System.IO.Path.IsPathRooted(expanded)
            ? expanded
            : System.IO.Path.GetFullPath(System.IO.Path.Combine(System.IO.Path.GetDirectoryName(Path) ?? ".", expanded));
    }

    public static string Expand(string value, OcctlHost host) =>
        value == "~" ? host.HomeDirectory
        : value.StartsWith("~/", StringComparison.Ordinal) ? System.IO.Path.Combine(host.HomeDirectory, value[2..])
        : value;
}
