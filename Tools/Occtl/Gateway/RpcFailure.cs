using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using Grpc.Core;

namespace OrleansControl.Occtl.Gateway;

/// <summary>A gateway answer or a transport failure, as the one line and exit code occtl reports.</summary>
internal static class RpcFailure
{
    public static OcctlException From(RpcException e, string call, Uri gateway, TimeSpan requestTimeout)
    {
        var transport = Transport(e);
        if (transport is AuthenticationException tls)
        {
            return new OcctlException(ExitCodes.Usage,
                $"{call}: TLS with {gateway.Authority} failed: {tls.Message.TrimEnd('.')} (is --ca the CA that signed the gateway's certificate, and does the name match?)");
        }
        if (transport is not null && e.StatusCode == StatusCode.Unavailable)
        {
            return new OcctlException(ExitCodes.Unreachable, $"{call}: cannot reach the gateway at {gateway}: {Innermost(transport)}");
        }
        var detail = string.IsNullOrWhiteSpace(e.Status.Detail) ? "(no detail)" : e.Status.Detail;
        var hint = e.StatusCode switch
        {
            StatusCode.Unauthenticated => " (check --token / OCCTL_TOKEN, --cert, or the context's credentials)",
            StatusCode.Unavailable => " (safe to retry)",
            StatusCode.DeadlineExceeded => $" (no answer within {Config.Durations.Format(requestTimeout)}; --request-timeout)",
            _ => "",
        };
        return new OcctlException(ExitCodes.For(e.StatusCode), $"{call}: {Name(e.StatusCode)}: {detail}{hint}");
    }

    /// <summary>FAILED_PRECONDITION for FailedPrecondition: the name the contract and gRPC documentation use.</summary>
    public static string Name(StatusCode code)
    {
        var text = code.ToString();
        var b = new StringBuilder(text.Length + 4);
        for (var i = 0; i < text.Length; i++)
        {
            if (i > 0 && char.IsUpper(text[i])) b.Append('_');
            b.Append(char.ToUpperInvariant(text[i]));
        }
        return b.ToString();
    }

    private static Exception? Transport(RpcException e)
    {
        for (var inner = e.InnerException ?? e.Status.DebugException; inner is not null; inner = inner.InnerException)
        {
            if (inner is AuthenticationException) return inner;
        }
        for (var inner = e.InnerException ?? e.Status.DebugException; inner is not null; inner = inner.InnerException)
        {
            if (inner is HttpRequestException or SocketException or IOException) return inner;
        }
        return null;
    }

    private static string Innermost(Exception e)
    {
        while (e.InnerException is not null) e = e.InnerException;
        return e.Message.TrimEnd('.');
    }
}
