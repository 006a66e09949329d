using BenchmarkDotNet.Attributes;
using OrleansControl.Codec;
using OrleansControl.Sidecar.Connections;
using OrleansControl.Sidecar.Matching;

namespace OrleansControl.Benchmarks.Sidecar;

/// <summary>
/// The MUX's share of a round trip: computing a match key from a message, and register + complete of one
/// pending request. Run: dotnet run -c Release --project test/Benchmarks -- bdn --filter '*MatcherBenchmarks*'
/// </summary>
[MemoryDiagnoser]
public class MatcherBenchmarks
{
    private readonly MatchKeyPolicy _policy = MatchKeyPolicy.Default;
    private RequestMatcher<IsoMessage> _matcher = null!;
    private IsoMessage _request = null!;
    private IsoMessage _response = null!;

    [GlobalSetup]
    public void Setup()
    {
        var spec = MessageSpec.BuiltIn(IsoWire.DefaultSpec);
        _request = spec.CreateMessage(200).Set(2, "4761739001010119").Set(3, "000000").Set(4, 1000).Set(11, "000123").Set(41, "TERM0001");
        _response = spec.CreateMessage(210).Set(3, "000000").Set(4, 1000).Set(11, "000123").Set(41, "TERM0001").Set(39, "00");
        _matcher = new RequestMatcher<IsoMessage>(4096, TimeSpan.FromMilliseconds(50));
    }

    [GlobalCleanup]
    public void Cleanup() => _matcher.DisposeAsync().AsTask().GetAwaiter().GetResult();

    [Benchmark]
    public MatchKey KeyOf() => _policy.KeyOf(_request);

    [Benchmark]
    public bool RegisterAndComplete()
    {
        _matcher.Register(_policy.KeyOf(_request), _request, TimeSpan.FromSeconds(10));
        return _matcher.TryComplete(_policy.KeyOf(_response), _response);
    }
}
