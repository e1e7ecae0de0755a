namespace Xent.Losses;

/// <summary>Remembers the kernel options made from the last <see cref="ClassificationLossOptions"/> seen, so that repeated calls with the same options allocate nothing.</summary>
/// <typeparam name="TOptions">The kernel's options type.</typeparam>
internal sealed class OptionsCache<TOptions>
    where TOptions : class
{
    private Entry? _last;

    /// <summary>The options for <paramref name="options"/>: the cached ones when it is the same object as last time.</summary>
    /// <remarks>Pass a static lambda: a lambda that captures allocates on every call.</remarks>
    public TOptions For<TState>(ClassificationLossOptions options, TState state, Func<ClassificationLossOptions, TState, TOptions> make)
    {
        Entry? last = _last;
        if (last is not null && ReferenceEquals(last.Key, options))
        {
            return last.Value;
        }

        TOptions value = make(options, state);
        _last = new Entry(options, value);
        return value;
    }

    private sealed record Entry(ClassificationLossOptions Key, TOptions Value);
}
