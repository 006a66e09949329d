using System.Buffers.Binary;
using System.Text;
using OrleansControl.Sidecar.Matching;

namespace OrleansControl.Sidecar.Reversals;

internal enum JournalRecordKind : byte
{
    /// <summary>A reversal was queued: its packed message and the original's match key.</summary>
    Queued = 1,

    /// <summary>Transmission n is about to be written (write-ahead: after a crash the next one is a repeat).</summary>
    Attempt = 2,

    /// <summary>The reversal was acknowledged or given up.</summary>
    Ended = 3,
}

/// <summary>How a reversal ended.</summary>
public enum ReversalEnd : byte
{
    Acknowledged = 1,
    GivenUp = 2,
}

/// <summary>A reversal still to be sent, as the journal remembers it.</summary>
internal sealed record JournaledReversal(long Id, DateTimeOffset QueuedAt, MatchKey OriginalKey, byte[] Packed, int Attempts);

/// <summary>What a replay found: live reversals (by id), the next id, and the original keys of every reversal in the file.</summary>
internal sealed record JournalContents(IReadOnlyList<JournaledReversal> Pending, long NextId, IReadOnlyList<MatchKey> Originals);

/// <summary>
/// One journal record: <c>u32 body length | u32 CRC-32 of the body | body</c>, the body being the kind (u8), the
/// reversal id (i64) and the kind's data, little-endian. The CRC finds a torn last record after a crash.
/// </summary>
internal sealed record JournalRecord(JournalRecordKind Kind, long Id, long QueuedAtMs = 0, MatchKey OriginalKey = default,
    byte[]? Packed = null, int Attempt = 0, ReversalEnd End = 0)
{
    private const int HeaderLength = 8;

    public static JournalRecord Queued(long id, DateTimeOffset at, MatchKey originalKey, byte[] packed) =>
        new(JournalRecordKind.Queued, id, at.ToUnixTimeMilliseconds(), originalKey, packed);

    public static JournalRecord Attempted(long id, int attempt) => new(JournalRecordKind.Attempt, id, Attempt: attempt);

    public static JournalRecord Ended(long id, ReversalEnd end) => new(JournalRecordKind.Ended, id, End: end);

    public byte[] Encode()
    {
        var keyFields = OriginalKey.Fields is { } f ? Encoding.UTF8.GetBytes(f) : [];
        var bodyLength = 9 + Kind switch
        {
            JournalRecordKind.Queued => 8 + 4 + 2 + keyFields.Length + 4 + Packed!.Length,
            JournalRecordKind.Attempt => 4,
            _ => 1,
        };
        var bytes = new byte[HeaderLength + bodyLength];
        var body = bytes.AsSpan(HeaderLength);
        body[0] = (byte)Kind;
        BinaryPrimitives.WriteInt64LittleEndian(body[1..], Id);
        var at = body[9..];
        switch (Kind)
        {
            case JournalRecordKind.Queued:
                BinaryPrimitives.WriteInt64LittleEndian(at, QueuedAtMs);
                BinaryPrimitives.WriteInt32LittleEndian(at[8..], OriginalKey.MtiPair);
                BinaryPrimitives.WriteUInt16LittleEndian(at[12..], (ushort)keyFields.Length);
                keyFields.CopyTo(at[14..]);
                BinaryPrimitives.WriteInt32LittleEndian(at[(14 + keyFields.Length)..], Packed!.Length);
                Packed.CopyTo(at[(18 + keyFields.Length)..]);
                break;
            case JournalRecordKind.Attempt:
                BinaryPrimitives.WriteInt32LittleEndian(at, Attempt);
                break;
            default:
                at[0] = (byte)End;
                break;
        }

        BinaryPrimitives.WriteUInt32LittleEndian(bytes, (uint)bodyLength);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), Crc32.Of(body));
        return bytes;
    }

    /// <summary>Replays a journal's bytes; <paramref name="goodLength"/> is where the last whole record ends.</summary>
    public static JournalContents Replay(ReadOnlySpan<byte> bytes, out int goodLength)
    {
        var live = new SortedDictionary<long, JournaledReversal>();
        var originals = new List<MatchKey>();
        long maxId = 0;
        var offset = 0;
        while (TryRead(bytes[offset..], out var record, out var length))
        {
            offset += length;
            maxId = Math.Max(maxId, record.Id);
            switch (record.Kind)
            {
                case JournalRecordKind.Queued:
                    live[record.Id] = new JournaledReversal(record.Id, DateTimeOffset.FromUnixTimeMilliseconds(record.QueuedAtMs),
                        record.OriginalKey, record.Packed!, 0);
                    originals.Add(record.OriginalKey);
                    break;
                case JournalRecordKind.Attempt when live.TryGetValue(record.Id, out var entry):
                    live[record.Id] = entry with { Attempts = Math.Max(entry.Attempts, record.Attempt) };
                    break;
                case JournalRecordKind.Ended:
                    live.Remove(record.Id);
                    break;
            }
        }

        goodLength = offset;
        return new JournalContents([.. live.Values], maxId + 1, originals);
    }

    private static bool TryRead(ReadOnlySpan<byte> bytes, out JournalRecord record, out int length)
    {
        record = null!;
        length = 0;
        if (bytes.Length < HeaderLength)
        {
            return false;
        }

        var bodyLength = BinaryPrimitives.ReadUInt32LittleEndian(bytes);
        if (bodyLength < 10 || bodyLength > bytes.Length - HeaderLength)
        {
            return false;
        }

        var body = bytes.Slice(HeaderLength, (int)bodyLength);
        if (Crc32.Of(body) != BinaryPrimitives.ReadUInt32LittleEndian(bytes[4..]))
        {
            return false;
        }

        var kind = (JournalRecordKind)body[0];
        var id = BinaryPrimitives.ReadInt64LittleEndian(body[1..]);
        var at = body[9..];
        switch (kind)
        {
            case JournalRecordKind.Queued:
                var keyLength = BinaryPrimitives.ReadUInt16LittleEndian(at[12..]);
                var key = new MatchKey(BinaryPrimitives.ReadInt32LittleEndian(at[8..]), Encoding.UTF8.GetString(at.Slice(14, keyLength)));
                var packedLength = BinaryPrimitives.ReadInt32LittleEndian(at[(14 + keyLength)..]);
                record = new JournalRecord(kind, id, BinaryPrimitives.ReadInt64LittleEndian(at), key, at.Slice(18 + keyLength, packedLength).ToArray());
                break;
            case JournalRecordKind.Attempt:
                record = new JournalRecord(kind, id, Attempt: BinaryPrimitives.ReadInt32LittleEndian(at));
                break;
            case JournalRecordKind.Ended:
                record = new JournalRecord(kind, id, End: (ReversalEnd)at[0]);
                break;
            default:
                return false;
        }

        length = HeaderLength + (int)bodyLength;
        return true;
    }

    /// <summary>CRC-32 (IEEE 802.3, reflected, as zlib's), enough to tell a whole record from a torn one.</summary>
    private static class Crc32
    {
        private static readonly uint[] Table = Enumerable.Range(0, 256).Select(n =>
        {
            var c = (uint)n;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }

            return c;
        }).ToArray();

        public static uint Of(ReadOnlySpan<byte> data)
        {
            var crc = 0xFFFFFFFFu;
            foreach (var b in data)
            {
                crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
            }

            return crc ^ 0xFFFFFFFFu;
        }
    }
}
