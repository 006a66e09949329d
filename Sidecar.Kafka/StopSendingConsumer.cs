using System.Net.Mime;
using System.Text.Json;
using CloudNative.CloudEvents;
using CloudNative.CloudEvents.SystemTextJson;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using OrleansControl.Sidecar.Server;

namespace OrleansControl.Sidecar.Kafka;

/// <summary>
/// The server side of the seed's flow: a plain Kafka consumer group (no Orleans) in the scheme server's process that
/// reads <c>failover-commands</c> and, for each <c>oc.server.stop-sending</c> naming this server, stops
/// server-initiated requests to the client that is moving away (<see cref="IsoServer.StopSending(string, DateTimeOffset)"/>).
/// An offset is committed only after the event was acted on (or found not to be for this server), so a server that
/// was down resumes from its committed offset; a redelivered event (same CloudEvents id) is dropped.
/// </summary>
public sealed partial class StopSendingConsumer : IDisposable
{
    public const string EventType = "oc.server.stop-sending";

    private static readonly JsonEventFormatter Formatter = new();
    private static readonly ContentType CloudEventsJson = new("application/cloudevents+json");

    private readonly IsoServer _server;
    private readonly StopSendingOptions _options;
    private readonly ILogger _logger;
    private readonly IConsumer<string, byte[]> _consumer;
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
    private readonly Queue<string> _seenOrder = new();
    private long _acted;
    private long _duplicates;
    private long _committed = -1;

    public StopSendingConsumer(IsoServer server, StopSendingOptions options, ILogger<StopSendingConsumer> logger)
    {
        if (options.FindProblem() is { } problem)
            throw new ArgumentException($"{StopSendingOptions.Section}:{problem}", nameof(options));
        _server = server;
        _options = options;
        _logger = logger;
        var config = new ConsumerConfig
        {
            BootstrapServers = options.BootstrapServers,
            GroupId = options.EffectiveGroupId,
            ClientId = $"stop-sending-{options.ServerId}",
            EnableAutoCommit = false, // committed by hand, after acting
            AutoOffsetReset = options.AutoOffsetReset.Equals("earliest", StringComparison.OrdinalIgnoreCase)
                ? Confluent.Kafka.AutoOffsetReset.Earliest
                : Confluent.Kafka.AutoOffsetReset.Latest,
            FetchWaitMaxMs = 100,
        };
        if (options.SecurityProtocol is not null) config.Set("security.protocol", options.SecurityProtocol.ToLowerInvariant());
        if (options.SaslMechanism is not null) config.Set("sasl.mechanism", options.SaslMechanism);
        if (options.SaslUsername is not null) config.Set("sasl.username", options.SaslUsername);
        if (options.SaslPassword is not null) config.Set("sasl.password", options.SaslPassword);
        if (options.SslCaLocation is not null) config.Set("ssl.ca.location", options.SslCaLocation);
        foreach (var (key, value) in options.Properties) config.Set(key, value);
        _consumer = new ConsumerBuilder<string, byte[]>(config)
            .SetErrorHandler((_, e) => { if (e.IsFatal) LogClientError(e.Reason); })
            .SetLogHandler((_, _) => { })
            .Build();
    }

    /// <summary>Stop-sending events acted on (whether or not a session was there to stop).</summary>
    public long Acted => Interlocked.Read(ref _acted);

    /// <summary>Redeliveries dropped by event id.</summary>
    public long Duplicates => Interlocked.Read(ref _duplicates);

    /// <summary>The last offset committed plus one (Kafka's convention), -1 before the first commit.</summary>
    public long CommittedOffset => Interlocked.Read(ref _committed);

    /// <summary>Consumes until <paramref name="stoppingToken"/> is cancelled, on a thread of its own (librdkafka blocks).</summary>
    public Task RunAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => Run(stoppingToken), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Run(CancellationToken stoppingToken)
    {
        _consumer.Subscribe(_options.Topic);
        LogStarted(_options.Topic, _options.EffectiveGroupId, _options.ServerId);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                ConsumeResult<string, byte[]> result;
                try
                {
                    result = _consumer.Consume(stoppingToken);
                }
                catch (ConsumeException ex)
                {
                    LogConsumeFailed(ex.Error.Reason);
                    continue;
                }
                catch (KafkaException ex) when (!ex.Error.IsFatal)
                {
                    LogConsumeFailed(ex.Error.Reason); // librdkafka retries by itself; the next Consume goes on
                    continue;
                }
                if (result?.Message is null)
                    continue;
                Handle(result);
                Commit(result);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
        finally
        {
            _consumer.Close(); // leaves the group; what was committed stays
        }
    }

    private void Handle(ConsumeResult<string, byte[]> result)
    {
        CloudEvent cloudEvent;
        try
        {
            cloudEvent = Formatter.DecodeStructuredModeMessage(result.Message.Value, CloudEventsJson, null);
        }
        catch (Exception ex) when (ex is ArgumentException or JsonException or FormatException or InvalidOperationException)
        {
            LogSkipped(result.TopicPartition.Partition.Value, result.Offset.Value, $"not a structured-mode CloudEvent ({ex.GetType().Name})");
            return;
        }
        if (cloudEvent.Type != EventType)
            return; // the topic's other events (oc.failover.command): not for the server side
        string? problem = "no JSON data";
        if (cloudEvent.Data is not JsonElement data || !TryRead(data, out var stop, out problem))
        {
            LogSkipped(result.TopicPartition.Partition.Value, result.Offset.Value, problem ?? "no JSON data");
            return;
        }
        if (stop.ServerId != _options.ServerId)
            return;
        if (!Remember(cloudEvent.Id!))
        {
            Interlocked.Increment(ref _duplicates);
            return;
        }
        var institution = _options.Clients.TryGetValue(stop.ClientId, out var mapped) ? mapped : stop.ClientId;
        var sessions = _server.StopSending(institution, stop.IssuedAt);
        Interlocked.Increment(ref _acted);
        LogStopped(stop.ClientId, institution, stop.ConnectionId, sessions, stop.ToServerId, cloudEvent.Id!);
    }

    private void Commit(ConsumeResult<string, byte[]> result)
    {
        try
        {
            _consumer.Commit(result);
            Interlocked.Exchange(ref _committed, result.Offset.Value + 1);
        }
        catch (KafkaException ex)
        {
            // Acted on already: a redelivery after a restart is harmless (dropped by id, or stops nothing newer).
            LogCommitFailed(result.Offset.Value, ex.Error.Reason);
        }
    }

    private readonly record struct StopSending(string ConnectionId, string ClientId, string ServerId, string ToServerId, DateTimeOffset IssuedAt);

    private static bool TryRead(JsonElement data, out StopSending stop, out string? problem)
    {
        stop = default;
        string? Text(string name) => data.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        var server = Text("serverId");
        var client = Text("clientId");
        if (server is null || client is null)
        {
            problem = "data lacks serverId or clientId";
            return false;
        }
        if (!DateTimeOffset.TryParse(Text("issuedAt"), out var issued))
        {
            problem = "data lacks a valid issuedAt";
            return false;
        }
        stop = new StopSending(Text("connectionId") ?? "", client, server, Text("toServerId") ?? "", issued);
        problem = null;
        return true;
    }

    private bool Remember(string id)
    {
        if (!_seen.Add(id))
            return false;
        _seenOrder.Enqueue(id);
        while (_seenOrder.Count > _options.DeduplicationWindow)
            _seen.Remove(_seenOrder.Dequeue());
        return true;
    }

    public void Dispose() => _consumer.Dispose();

    [LoggerMessage(1, LogLevel.Information, "Stop-sending consumer on {Topic} (group {Group}) for server {ServerId}")]
    private partial void LogStarted(string topic, string group, string serverId);

    [LoggerMessage(2, LogLevel.Information, "Stopped sending to client {ClientId} (institution {Institution}, connection {ConnectionId}): {Sessions} sessions; it moves to {ToServerId} (event {EventId})")]
    private partial void LogStopped(string clientId, string institution, string connectionId, int sessions, string toServerId, string eventId);

    [LoggerMessage(3, LogLevel.Warning, "Skipped failover-commands[{Partition}]@{Offset}: {Why}")]
    private partial void LogSkipped(int partition, long offset, string why);

    [LoggerMessage(4, LogLevel.Warning, "Kafka consume failed: {Reason}")]
    private partial void LogConsumeFailed(string reason);

    [LoggerMessage(5, LogLevel.Warning, "Commit of offset {Offset} failed: {Reason}")]
    private partial void LogCommitFailed(long offset, string reason);

    [LoggerMessage(6, LogLevel.Error, "Kafka client error: {Reason}")]
    private partial void LogClientError(string reason);
}
