using OrleansControl.Streams.Kafka;

namespace OrleansControl.Streams.Tests;

public sealed class OffsetTrackerTests
{
    [Fact]
    public void Commits_only_up_to_the_first_offset_not_yet_delivered()
    {
        var t = new ContiguousOffsetTracker();
        for (var o = 10; o < 15; o++)
            t.Fetched(o, 1);
        t.Finished(10, 0);
        t.Finished(12, 0);
        t.Finished(13, 0);
        Assert.Equal(11, t.Committable);
        t.Finished(11, 0);
        Assert.Equal(14, t.Committable);
    }

    [Fact]
    public void An_offset_with_two_copies_is_finished_when_both_are_delivered_once_each()
    {
        var t = new ContiguousOffsetTracker();
        t.Fetched(0, 2);
        t.Finished(0, 0);
        t.Finished(0, 0); // a repeat of the same copy does not count twice
        Assert.Null(t.Committable);
        t.Finished(0, 1);
        Assert.Equal(1, t.Committable);
    }

    [Fact]
    public void Skipped_offsets_and_gaps_in_numbering_do_not_stall_the_commit()
    {
        var t = new ContiguousOffsetTracker();
        t.Fetched(0, 1);
        t.Fetched(1, 0); // not ours (a bad record, a duplicate)
        t.Fetched(5, 1); // 2-4 never existed for a consumer (transaction markers, compaction)
        t.Finished(0, 0);
        Assert.Equal(2, t.Committable);
        t.Finished(5, 0);
        Assert.Equal(6, t.Committable);
        Assert.Equal(0, t.InFlight);
    }
}
