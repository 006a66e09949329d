using System.Net;
using System.Net.Sockets;
using System.Text;

namespace OrleansControl.Samples.BankClient;

/// <summary>
/// The kubelet's probes for this console application, on BANK__ProbePort: <c>GET /healthz</c> answers 200 while the
/// process runs, <c>GET /readyz</c> 200 when <paramref name="ready"/> says so, else 503. One request per connection.
/// </summary>
public sealed class ProbeListener(int port, Func<bool> ready) : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Any, port);
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;

    public void Start()
    {
        _listener.Start();
        _loop = AcceptAsync(_stop.Token);
    }

    private async Task AcceptAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            _ = AnswerAsync(client, cancellationToken);
        }
    }

    private async Task AnswerAsync(TcpClient client, CancellationToken cancellationToken)
    {
        using (client)
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(2));
                var stream = client.GetStream();
                var buffer = new byte[1024];
                var read = await stream.ReadAsync(buffer, timeout.Token);
                var line = Encoding.ASCII.GetString(buffer, 0, read).Split("\r\n", 2)[0];
                var (status, body) = line switch
                {
                    "GET /healthz HTTP/1.1" or "GET /healthz HTTP/1.0" => ("200 OK", "alive"),
                    "GET /readyz HTTP/1.1" or "GET /readyz HTTP/1.0" => ready() ? ("200 OK", "ready") : ("503 Service Unavailable", "not ready"),
                    _ => ("404 Not Found", "not found"),
                };
                var response = $"HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n{body}";
                await stream.WriteAsync(Encoding.ASCII.GetBytes(response), timeout.Token);
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or SocketException)
            {
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _loop;
        _stop.Dispose();
    }
}
