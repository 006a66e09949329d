using Grpc.Core;
using OrleansControl.Gateway.Errors;
using OrleansControl.Gateway.Hosting;
using OrleansControl.Gateway.Regions;
using OrleansControl.Gateway.Security;
using OrleansControl.GrainInterfaces.Errors;
using OrleansControl.GrainInterfaces.Models;

namespace OrleansControl.Gateway.Tests;

public sealed class GatewayOptionsValidatorTests
{
    private static IEnumerable<string> Failures(GatewayOptions o) =>
        GatewayOptionsValidator.Keyed.Validate(null, o).Failures ?? [];

    [Fact]
    public void The_defaults_are_valid()
    {
        Assert.Empty(Failures(new GatewayOptions()));
    }

    [Fact]
    public void Plain_text_on_a_public_address_is_refused_naming_the_settings()
    {
        var failure = Assert.Single(Failures(new GatewayOptions { BindAddress = "0.0.0.0" }));
        Assert.Contains("Gateway:BindAddress", failure);
        Assert.Contains("Gateway:AllowInsecure", failure);
        Assert.Empty(Failures(new GatewayOptions { BindAddress = "0.0.0.0", AllowInsecure = true }));
    }

    [Theory]
    [InlineData("operator", "abc", "Gateway:Auth:Tokens:0:Sha256")]
    [InlineData("peer", "0000000000000000000000000000000000000000000000000000000000000000", "Gateway:Auth:Tokens:0:Role")]
    public void Bad_token_entries_are_refused(string role, string hash, string setting)
    {
        var o = new GatewayOptions();
        o.Auth.Tokens.Add(new BearerTokenOptions { Subject = "x", Role = role, Sha256 = hash });
        Assert.Contains(Failures(o), f => f.Contains(setting));
    }

    [Fact]
    public void A_peer_needs_https_a_region_and_a_client_certificate()
    {
        var o = new GatewayOptions();
        o.Peer.Address = "http://peer:9090";
        var failures = Failures(o).ToList();
        Assert.Contains(failures, f => f.Contains("Gateway:Peer:Address"));
        Assert.Contains(failures, f => f.Contains("Gateway:Peer:ClientCertificatePath"));
        Assert.Contains(failures, f => f.Contains("Gateway:Peer:Region"));
    }

    [Fact]
    public void Equal_ports_are_refused()
    {
        Assert.Contains(Failures(new GatewayOptions { GrpcPort = 9000, RestPort = 9000 }), f => f.Contains("Gateway:GrpcPort"));
    }
}

public sealed class ErrorMappingTests
{
    [Fact]
    public void Grain_errors_map_to_their_status_codes()
    {
        Assert.Equal(StatusCode.NotFound, ErrorMappingInterceptor.Classify(new ConnectionNotFoundException("c"), false).Code);
        Assert.Equal(StatusCode.FailedPrecondition, ErrorMappingInterceptor.Classify(new VersionConflictException("c", 1, 2), false).Code);
        Assert.Equal(StatusCode.FailedPrecondition,
            ErrorMappingInterceptor.Classify(new IllegalTransitionException("c", ConnectionStatus.Closed, ConnectionStatus.Active), false).Code);
        Assert.Equal(StatusCode.AlreadyExists, ErrorMappingInterceptor.Classify(new ConnectionAlreadyExistsException("c", "x"), false).Code);
        Assert.Equal(StatusCode.ResourceExhausted, ErrorMappingInterceptor.Classify(new PoolCapacityExceededException("p", 1, 1), false).Code);
        Assert.Equal(StatusCode.InvalidArgument, ErrorMappingInterceptor.Classify(new InvalidRequestException("f", "bad"), false).Code);
        Assert.Equal(StatusCode.Unavailable, ErrorMappingInterceptor.Classify(new TimeoutException(), false).Code);
        Assert.Equal(StatusCode.Cancelled, ErrorMappingInterceptor.Classify(new OperationCanceledException(), true).Code);
    }

    [Fact]
    public void Storage_faults_are_UNAVAILABLE_with_their_reason_also_when_the_runtime_wrapped_them()
    {
        var storage = new StorageUnavailableException("connection/c-1", "storage 'controller' read failed: RedisConnectionException");
        Assert.Equal((StatusCode.Unavailable, storage.Message), ErrorMappingInterceptor.Classify(storage, false));
        // A failed activation (its state read) reaches the caller wrapped in an OrleansException.
        var wrapped = new Orleans.Runtime.OrleansException("Error from storage provider during ReadStateAsync", storage);
        Assert.Equal((StatusCode.Unavailable, storage.Message), ErrorMappingInterceptor.Classify(wrapped, false));
        Assert.Contains("retry", storage.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unexpected_exceptions_are_INTERNAL_without_their_message()
    {
        var (code, message) = ErrorMappingInterceptor.Classify(new NullReferenceException("secret detail"), false);
        Assert.Equal(StatusCode.Internal, code);
        Assert.DoesNotContain("secret", message);
    }

    [Fact]
    public void Token_hash_is_lower_case_hex_sha256()
    {
        Assert.Equal("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", BearerTokenHandler.Hash("test"));
    }
}
