namespace OrleansControl.Sidecar.Relay;

/// <summary>The field 39 codes the relay answers with when the link brings no response (<c>Sidecar:Relay:ResponseCodes</c>).</summary>
/// <remarks>Defaults are ISO 8583:1987 response codes; a 1993 dialect (n 3 action codes) sets its own, e.g. 907, 913, 904, 911.</remarks>
public sealed class RelayResponseCodes
{
    /// <summary>Not sent (no link, draining, stop-sending, in-flight cap): 91 "issuer or switch inoperative".</summary>
    public string NotSent { get; set; } = "91";

    /// <summary>Not sent, a request with the same STAN and terminal is in flight: 94 "duplicate transmission".</summary>
    public string Duplicate { get; set; } = "94";

    /// <summary>Not sent, the link's spec cannot pack it: 30 "format error".</summary>
    public string FormatError { get; set; } = "30";

    /// <summary>Sent, no answer (timeout, link lost after the write): 68 "response received too late". Never a decline.</summary>
    public string FateUnknown { get; set; } = "68";

    public IEnumerable<string> Validate()
    {
        string[] codes = [NotSent, Duplicate, FormatError, FateUnknown];
        if (codes.Any(c => c is not { Length: 2 or 3 }))
        {
            yield return "ResponseCodes must be 2 characters (1987 response codes) or 3 (1993 action codes)";
        }
        else if (codes.Distinct().Count() != codes.Length)
        {
            yield return "ResponseCodes must be distinct: an application has to tell each outcome apart";
        }
    }
}

/// <summary>
/// What the relay answers for a request the link could not answer: one table, the same as docs/sidecar.md's.
/// <list type="table">
/// <item><term><see cref="RequestOutcome.NotSent"/>: NoLink, NotAccepting, SendingStopped, InFlightLimit (and any other refusal)</term><description>91, "NOT SENT"</description></item>
/// <item><term><see cref="RequestOutcome.NotSent"/>: DuplicateKey</term><description>94, "NOT SENT DUPLICATE"</description></item>
/// <item><term><see cref="RequestOutcome.NotSent"/>: InvalidMessage</term><description>30, "NOT SENT FORMAT ERROR"</description></item>
/// <item><term><see cref="RequestOutcome.FateUnknown"/>: Timeout, ConnectionLost, reversal queued</term><description>68, "FATE UNKNOWN REVERSING"</description></item>
/// <item><term><see cref="RequestOutcome.FateUnknown"/>: Timeout, ConnectionLost, not reversed</term><description>68, "FATE UNKNOWN"</description></item>
/// </list>
/// The detail (in <see cref="RelayOptions.DetailField"/>, 44 by default) marks the relay's own answers, so an application
/// tells the relay's 91 from a scheme's, and knows whether the sidecar is reversing a fate-unknown request or it must.
/// </summary>
public static class RelayAnswers
{
    public const string NotSentDetail = "NOT SENT";
    public const string DuplicateDetail = "NOT SENT DUPLICATE";
    public const string FormatErrorDetail = "NOT SENT FORMAT ERROR";
    public const string ReversingDetail = "FATE UNKNOWN REVERSING";
    public const string UnreversedDetail = "FATE UNKNOWN";

    public static (string Code, string Detail) For(SidecarException error, RelayResponseCodes codes) => error switch
    {
        { Outcome: RequestOutcome.FateUnknown, Reversal: not null } => (codes.FateUnknown, ReversingDetail),
        { Outcome: RequestOutcome.FateUnknown } => (codes.FateUnknown, UnreversedDetail),
        { Error: SidecarError.DuplicateKey } => (codes.Duplicate, DuplicateDetail),
        { Error: SidecarError.InvalidMessage } => (codes.FormatError, FormatErrorDetail),
        _ => (codes.NotSent, NotSentDetail),
    };
}
