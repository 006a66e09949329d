using System.Text;

namespace OrleansControl.Occtl.Tests.Infrastructure;

/// <summary>A writer a test can read while a streaming command is still writing to it.</summary>
internal sealed class CapturedWriter : TextWriter
{
    private readonly StringBuilder _text = new();

    public override Encoding Encoding => Encoding.UTF8;

    public override void Write(char value)
    {
        lock (_text) _text.Append(value);
    }

    public override void Write(string? value)
    {
        lock (_text) _text.Append(value);
    }

    public override void Write(char[] buffer, int index, int count)
    {
        lock (_text) _text.Append(buffer, index, count);
    }

    public override string ToString()
    {
        lock (_text) return _text.ToString();
    }
}
