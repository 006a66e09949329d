using System.Net;
using System.Text.Json;
using k8s.Autorest;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace OrleansControl.Grains.Kubernetes;

/// <summary>
/// Which API errors are retried and how long to wait (Polly). Every request the actions send is safe to repeat: reads,
/// and merge patches that set an absolute value, so a retry after a lost response changes nothing twice.
/// Retried: 409 Conflict (another writer raced us; our patch carries no resourceVersion), 429 (after its Retry-After),
/// 500/502/503/504, a request timeout, no response. Not retried: 403 (RBAC says no: retrying cannot help), 404 (no
/// such Deployment or pod), 400/401/422.
/// </summary>
internal static class KubernetesRetry
{
    /// <summary>A Retry-After longer than this is not honoured in full: the failover must not wait on a throttled API.</summary>
    internal static readonly TimeSpan MaxRetryAfter = TimeSpan.FromSeconds(30);

    public static ResiliencePipeline Build(KubernetesOptions options, TimeProvider time, Action<int, TimeSpan, Exception?> onRetry)
    {
        var builder = new ResiliencePipelineBuilder { TimeProvider = time };
        if (options.MaxRetries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = options.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryBaseDelay,
                MaxDelay = MaxRetryAfter,
                ShouldHandle = args => ValueTask.FromResult(IsRetryable(args.Outcome.Exception)),
                DelayGenerator = args => ValueTask.FromResult(RetryAfter(args.Outcome.Exception)),
                OnRetry = args =>
                {
                    onRetry(args.AttemptNumber + 1, args.RetryDelay, args.Outcome.Exception);
                    return ValueTask.CompletedTask;
                },
            });
        }
        return builder.AddTimeout(options.RequestTimeout).Build();
    }

    public static bool IsRetryable(Exception? exception) => exception switch
    {
        HttpOperationException http => http.Response.StatusCode is HttpStatusCode.Conflict or HttpStatusCode.TooManyRequests
            or HttpStatusCode.InternalServerError or HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable
            or HttpStatusCode.GatewayTimeout,
        TimeoutRejectedException or HttpRequestException => true,
        _ => false,
    };

    /// <summary>A 429's or 503's Retry-After in seconds (capped), or null for the exponential backoff.</summary>
    public static TimeSpan? RetryAfter(Exception? exception)
    {
        if (exception is not HttpOperationException { Response: { } response }
            || response.StatusCode is not (HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable))
            return null;
        var header = response.Headers?.FirstOrDefault(h => string.Equals(h.Key, "Retry-After", StringComparison.OrdinalIgnoreCase));
        var value = header?.Value?.FirstOrDefault();
        if (!int.TryParse(value, out var seconds) || seconds < 0)
            return null;
        var delay = TimeSpan.FromSeconds(seconds);
        return delay > MaxRetryAfter ? MaxRetryAfter : delay;
    }

    public static HttpStatusCode? StatusOf(Exception exception) =>
        exception is HttpOperationException { Response: { } response } ? response.StatusCode : null;

    /// <summary>The API server's Status message (the reason it gave), else the exception's kind.</summary>
    public static string ReasonOf(Exception exception)
    {
        if (exception is HttpOperationException { Response.Content: { Length: > 0 } content })
        {
            try
            {
                using var status = JsonDocument.Parse(content);
                if (status.RootElement.TryGetProperty("message", out var message) && message.GetString() is { } text)
                    return text.Length > 300 ? text[..300] : text;
            }
            catch (JsonException)
            {
            }
        }
        return exception switch
        {
            TimeoutRejectedException => "request timed out",
            HttpRequestException => "no response (" + exception.GetType().Name + ")",
            HttpOperationException http => http.Response.ReasonPhrase ?? "error",
            _ => exception.GetType().Name,
        };
    }
}
