using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using OrleansControl.GrainInterfaces.Errors;

namespace OrleansControl.Gateway.Errors;

/// <summary>
/// Turns grain and runtime exceptions into gRPC statuses with a plain message; anything unexpected becomes
/// INTERNAL with a reference id that is logged with the exception (never a stack trace on the wire).
/// </summary>
internal sealed partial class ErrorMappingInterceptor(ILogger<ErrorMappingInterceptor> logger) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context);
        }
        catch (Exception e) when (e is not RpcException)
        {
            throw Map(e, context);
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(request, responseStream, context);
        }
        catch (Exception e) when (e is not RpcException)
        {
            throw Map(e, context);
        }
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(requestStream, responseStream, context);
        }
        catch (Exception e) when (e is not RpcException)
        {
            throw Map(e, context);
        }
    }

    private RpcException Map(Exception e, ServerCallContext context)
    {
        var (code, message) = Classify(e, context.CancellationToken.IsCancellationRequested);
        if (code == StatusCode.Internal)
        {
            var reference = Guid.NewGuid().ToString("N")[..12];
            LogUnexpected(e, context.Method, reference);
            message = $"internal error (reference {reference})";
        }
        else
        {
            LogMapped(context.Method, code, e.GetType().Name);
        }
        return new RpcException(new Status(code, message));
    }

    internal static (StatusCode Code, string Message) Classify(Exception e, bool callCancelled) => e switch
    {
        // A grain's typed error the runtime wrapped (a failed activation, e.g. its state read while Redis is down).
        OrleansException { InnerException: ControlPlaneException inner } => Classify(inner, callCancelled),
        InvalidRequestException x => (StatusCode.InvalidArgument, x.Message),
        ConnectionNotFoundException x => (StatusCode.NotFound, x.Message),
        ServerNotFoundException x => (StatusCode.NotFound, x.Message),
        // A stale expected_version and an illegal move are both "the state is not what you assumed".
        VersionConflictException x => (StatusCode.FailedPrecondition, x.Message),
        IllegalTransitionException x => (StatusCode.FailedPrecondition, x.Message),
        ConnectionAlreadyExistsException x => (StatusCode.AlreadyExists, x.Message),
        PoolCapacityExceededException x => (StatusCode.ResourceExhausted, x.Message),
        // Redis down, timing out, or restarted empty under a live activation: retryable, nothing was changed.
        StorageUnavailableException x => (StatusCode.Unavailable, x.Message),
        ControlPlaneException x => (StatusCode.FailedPrecondition, x.Message),
        OperationCanceledException when callCancelled => (StatusCode.Cancelled, "the call was cancelled"),
        TimeoutException => (StatusCode.Unavailable, "the control plane did not answer in time; retry"),
        SiloUnavailableException or OrleansMessageRejectionException or ClientNotAvailableException =>
            (StatusCode.Unavailable, "the control plane cluster is not reachable; retry"),
        _ => (StatusCode.Internal, ""),
    };

    [LoggerMessage(Level = LogLevel.Error, Message = "Unexpected error in {Method}, reference {Reference}")]
    private partial void LogUnexpected(Exception e, string method, string reference);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Method} failed with {Code} ({ExceptionType})")]
    private partial void LogMapped(string method, StatusCode code, string exceptionType);
}
