using System.Text.Json;

namespace Xent.Cli.LossCases;

/// <summary>
/// JSON tokens read from a stream through a small buffer (<see cref="Utf8JsonReader"/> over refilled segments), so
/// that reading a file never holds its text, nor a document tree of it, in memory. A token (a string or a number) may
/// be at most <see cref="MaxTokenBytes"/> long. Malformed JSON throws <see cref="JsonException"/>, whose line and
/// position count from the start of the stream.
/// </summary>
internal sealed class JsonTokenStream
{
    /// <summary>The longest string or number read (1 MiB).</summary>
    public const int MaxTokenBytes = 1 << 20;

    private readonly Stream _stream;
    private readonly string _source;
    private byte[] _buffer = new byte[1 << 14];
    private int _start;
    private int _end;
    private bool _final;
    private long _base;
    private JsonReaderState _state = new(new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = false });
    private int _tokenStart;
    private int _valueStart;
    private int _valueLength;

    /// <summary>Reads from the stream's current position.</summary>
    /// <param name="stream">UTF-8 JSON.</param>
    /// <param name="source">Names the input in messages.</param>
    public JsonTokenStream(Stream stream, string source)
    {
        _stream = stream;
        _source = source;
    }

    /// <summary>The current token's type.</summary>
    public JsonTokenType TokenType { get; private set; }

    /// <summary>The current token's depth (0 for the root value; an array's elements are one deeper than the array).</summary>
    public int Depth { get; private set; }

    /// <summary>Where the current token starts, in bytes from the start of the stream.</summary>
    public long TokenOffset => _base + _tokenStart;

    /// <summary>The current string's or number's bytes, as written (escapes not decoded). Valid until the next read.</summary>
    public ReadOnlySpan<byte> ValueSpan => _buffer.AsSpan(_valueStart, _valueLength);

    /// <summary>Whether the current string holds escapes.</summary>
    public bool ValueIsEscaped { get; private set; }

    /// <summary>Advances to the next token.</summary>
    /// <returns>False at the end of the input.</returns>
    /// <exception cref="JsonException">The JSON is malformed.</exception>
    /// <exception cref="InputException">A string or number is longer than <see cref="MaxTokenBytes"/>.</exception>
    public bool Read()
    {
        while (true)
        {
            var reader = new Utf8JsonReader(_buffer.AsSpan(_start, _end - _start), _final, _state);
            bool read = reader.Read();
            if (read)
            {
                TokenType = reader.TokenType;
                Depth = reader.CurrentDepth;
                ValueIsEscaped = reader.ValueIsEscaped;
                _tokenStart = _start + (int)reader.TokenStartIndex;
                _valueStart = _tokenStart + (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName ? 1 : 0);
                _valueLength = reader.ValueSpan.Length;
            }

            _start += (int)reader.BytesConsumed;
            _state = reader.CurrentState;
            if (read || _final)
            {
                return read;
            }

            Refill();
        }
    }

    /// <summary>Skips the value that starts at the current token (all of it, for an array or an object).</summary>
    public void SkipValue()
    {
        if (TokenType is not (JsonTokenType.StartArray or JsonTokenType.StartObject))
        {
            return;
        }

        int depth = Depth;
        while (Read() && !(TokenType is JsonTokenType.EndArray or JsonTokenType.EndObject && Depth == depth))
        {
        }
    }

    /// <summary>The current string or property name, unescaped.</summary>
    /// <exception cref="InputException">It is not valid UTF-8.</exception>
    public string GetString()
    {
        // The token's own bytes, quotes included, are a JSON document of one string.
        var reader = new Utf8JsonReader(_buffer.AsSpan(_valueStart - 1, _valueLength + 2));
        reader.Read();
        try
        {
            return reader.GetString()!;
        }
        catch (InvalidOperationException)
        {
            throw new InputException($"{_source}: a string at byte {TokenOffset + 1} is not valid UTF-8.");
        }
    }

    /// <summary>Whether the current string or property name is <paramref name="utf8"/>.</summary>
    public bool ValueEquals(ReadOnlySpan<byte> utf8) => ValueIsEscaped ? GetString() == System.Text.Encoding.UTF8.GetString(utf8) : ValueSpan.SequenceEqual(utf8);

    private void Refill()
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _base += _start;
            _end -= _start;
            _start = 0;
        }

        if (_end == _buffer.Length)
        {
            if (_buffer.Length >= MaxTokenBytes)
            {
                throw new InputException($"{_source}: a JSON string or number at byte {_base + 1} is longer than {MaxTokenBytes} bytes; Xent does not read values that long.");
            }

            Array.Resize(ref _buffer, _buffer.Length * 2);
        }

        int n = _stream.Read(_buffer, _end, _buffer.Length - _end);
        if (n == 0)
        {
            _final = true;
        }
        else
        {
            _end += n;
        }
    }
}
