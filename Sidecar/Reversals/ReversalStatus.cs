namespace OrleansControl.Sidecar.Reversals;

/// <summary>The link's reversals in /control/status: how many are waiting, and what happened to them since start.</summary>
/// <param name="Pending">Queued and not yet acknowledged or given up (in the journal).</param>
/// <param name="Queued">Queued since start.</param>
/// <param name="Sent">Transmissions since start (0420s and 0421 repeats).</param>
/// <param name="Acknowledged">Acknowledged (0430) since start.</param>
/// <param name="GivenUp">Given up since start.</param>
/// <param name="LateResponses">Responses that came for an original already reversed (counted, not delivered).</param>
/// <param name="Journal">The journal file.</param>
/// <param name="JournalBytes">Its size now (0 whenever nothing is pending).</param>
public sealed record ReversalStatus(int Pending, long Queued, long Sent, long Acknowledged, long GivenUp, long LateResponses, string Journal, long JournalBytes);

/// <summary>A reversal the link stopped trying to send: someone must settle the original by hand. No card data.</summary>
/// <param name="Id">The journal's id for it.</param>
/// <param name="Mti">The reversal's MTI (0420).</param>
/// <param name="Stan">The reversal's STAN.</param>
/// <param name="OriginalData">The original data elements (field 90 or 56): original MTI, STAN, date and time, institutions.</param>
/// <param name="Attempts">Transmissions made.</param>
/// <param name="QueuedAt">When it was queued.</param>
/// <param name="Reason">Why it was given up (attempts exhausted, too old).</param>
public sealed record ReversalGivenUp(long Id, int Mti, string? Stan, string? OriginalData, int Attempts, DateTimeOffset QueuedAt, string Reason);
