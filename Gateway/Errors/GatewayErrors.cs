using Grpc.Core;

namespace OrleansControl.Gateway.Errors;

/// <summary>The gateway's own refusals, each naming the field or the rule it applies.</summary>
internal static class GatewayErrors
{
    public static RpcException InvalidArgument(string field, string problem) =>
        new(new Status(StatusCode.InvalidArgument, $"{field}: {problem}"));

    public static RpcException NotFound(string what) => new(new Status(StatusCode.NotFound, what));

    public static RpcException FailedPrecondition(string what) => new(new Status(StatusCode.FailedPrecondition, what));

    public static RpcException PermissionDenied(string what) => new(new Status(StatusCode.PermissionDenied, what));

    public static RpcException Unauthenticated(string what) => new(new Status(StatusCode.Unauthenticated, what));
}
