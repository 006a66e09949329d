using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace OrleansControl.Sidecar.Agent;

/// <summary>
/// How the agent decides whether to trust one gateway's TLS certificate: the system roots, or only the private CA(s)
/// in <see cref="ControllerAccessOptions.TrustedCaPath"/> (custom root trust; the host name is still checked), or anything
/// (<see cref="ControllerAccessOptions.AllowUntrustedController"/>, development only). A refusal is kept in words
/// (<see cref="Rejection"/>) naming the certificate, what is wrong with it and the setting that fixes it, so the
/// agent's status and log say that rather than an SSL stack trace.
/// </summary>
internal sealed class ControllerTrust
{
    private readonly string _host;
    private readonly string? _caPath;
    private readonly X509Certificate2Collection? _trusted;
    private readonly bool _anything;
    private readonly string _setting;

    public ControllerTrust(string controllerAddress, ControllerAccessOptions options)
    {
        _setting = options.SettingsPrefix.Length == 0 ? "TrustedCaPath" : $"{options.SettingsPrefix}:TrustedCaPath";
        _host = Uri.TryCreate(controllerAddress, UriKind.Absolute, out var uri) ? uri.Host : controllerAddress;
        _anything = options.AllowUntrustedController;
        if (options.TrustedCaPath is { Length: > 0 } path)
        {
            _caPath = path;
            _trusted = [];
            _trusted.ImportFromPemFile(path);
            if (_trusted.Count == 0)
            {
                throw new InvalidOperationException($"{_setting} '{path}' holds no PEM certificate");
            }
        }
    }

    /// <summary>Why the last handshake refused the controller's certificate; null once one is accepted.</summary>
    public string? Rejection { get; private set; }

    /// <summary>Before each attempt: what refused an earlier handshake says nothing about this one.</summary>
    public void Forget() => Rejection = null;

    public void Apply(SocketsHttpHandler handler)
    {
        if (_trusted is not null)
        {
            var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
            policy.CustomTrustStore.AddRange(_trusted);
            handler.SslOptions.CertificateChainPolicy = policy; // the chain the callback below is given is built on it
        }

        handler.SslOptions.RemoteCertificateValidationCallback = Validate;
    }

    private bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (errors == SslPolicyErrors.None || _anything)
        {
            Rejection = null;
            return true;
        }

        Rejection = Describe(certificate, chain, errors);
        return false;
    }

    private string Describe(X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
        {
            return $"controller {_host} presented no TLS certificate";
        }

        var which = $"the controller's certificate ({certificate.Subject}, issued by {certificate.Issuer})";
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch))
        {
            return $"{which} does not name the host {_host} (its subject alternative names must include it)";
        }

        var problems = chain?.ChainStatus.Select(s => s.Status).Where(s => s != X509ChainStatusFlags.NoError).Distinct().Select(Words).ToList() ?? [];
        var why = problems.Count == 0 ? "its chain is not valid" : string.Join("; ", problems);
        return _caPath is not null
            ? $"{which} is not trusted: it does not chain to the CA in {_setting} '{_caPath}' ({why})"
            : $"{which} is not trusted: it does not chain to a root this machine trusts ({why}); for a private CA set {_setting} to its PEM";
    }

    private static string Words(X509ChainStatusFlags status) => status switch
    {
        X509ChainStatusFlags.PartialChain => "its issuer is not known here",
        X509ChainStatusFlags.UntrustedRoot => "its root is not trusted",
        X509ChainStatusFlags.NotTimeValid => "it has expired or is not valid yet",
        X509ChainStatusFlags.NotSignatureValid => "a signature in the chain is wrong",
        X509ChainStatusFlags.Revoked => "it is revoked",
        X509ChainStatusFlags.NotValidForUsage => "it is not for TLS servers",
        _ => status.ToString(),
    };
}
