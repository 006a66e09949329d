using Grpc.Core;

namespace OrleansControl.Occtl;

/// <summary>
/// What occtl's exit code tells a script. Every failure also prints one line on standard error naming what is wrong
/// (for a gateway answer: the call, the gRPC status and its detail); never a stack trace.
/// </summary>
internal static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>The call failed for another reason (INTERNAL, UNKNOWN, UNIMPLEMENTED, ...).</summary>
    public const int CallFailed = 1;

    /// <summary>Bad usage or configuration: unknown option, bad value, unreadable config, certificate or CA; INVALID_ARGUMENT.</summary>
    public const int Usage = 2;

    /// <summary>NOT_FOUND: the connection, pool server or config context does not exist.</summary>
    public const int NotFound = 3;

    /// <summary>Refused, nothing changed: FAILED_PRECONDITION (e.g. no failover target), ALREADY_EXISTS, RESOURCE_EXHAUSTED, ABORTED, or an option the contract cannot carry (failover --to).</summary>
    public const int Refused = 4;

    /// <summary>The gateway cannot be reached, or answered UNAVAILABLE (its cluster or the peer region is down). Safe to retry.</summary>
    public const int Unreachable = 5;

    /// <summary>UNAUTHENTICATED (no or a rejected token or certificate) or PERMISSION_DENIED (the role may not do this).</summary>
    public const int NotAuthenticated = 6;

    /// <summary>Did not finish in time: the gateway did not answer within --request-timeout, or drain --timeout passed.</summary>
    public const int TimedOut = 7;

    /// <summary>Interrupted (Ctrl-C) before a one-shot command finished.</summary>
    public const int Interrupted = 130;

    public static int For(StatusCode code) => code switch
    {
        StatusCode.OK => Ok,
        StatusCode.InvalidArgument or StatusCode.OutOfRange => Usage,
        StatusCode.NotFound => NotFound,
        StatusCode.FailedPrecondition or StatusCode.AlreadyExists or StatusCode.ResourceExhausted or StatusCode.Aborted => Refused,
        StatusCode.Unavailable => Unreachable,
        StatusCode.Unauthenticated or StatusCode.PermissionDenied => NotAuthenticated,
        StatusCode.DeadlineExceeded => TimedOut,
        StatusCode.Cancelled => Interrupted,
        _ => CallFailed,
    };
}

/// <summary>A failure occtl reports as one line and an exit code.</summary>
internal sealed class OcctlException(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
