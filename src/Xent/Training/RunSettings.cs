using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json;

namespace Xent.Training;

/// <summary>
/// The settings that decide a training run's result, as an ordered list of named values: what a checkpoint records,
/// and what a resume must match. Records (optimizer options, schedules, early stopping) are added by reflection over
/// their public properties, so a hyper-parameter added to them later is covered without touching this class.
/// </summary>
public sealed class RunSettings
{
    private readonly List<KeyValuePair<string, string>> _items = [];

    /// <summary>The settings, in order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Items => _items;

    /// <summary>Adds a setting.</summary>
    /// <param name="name">Its name, for example <c>optimizer.momentum</c>.</param>
    /// <param name="value">Its value (formatted with the invariant culture; doubles round-trip).</param>
    /// <returns>This object.</returns>
    public RunSettings Add(string name, object? value)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        _items.Add(KeyValuePair.Create(name, Format(value)));
        return this;
    }

    /// <summary>Adds every public property of a record (or other object) as <c>prefix.property_name</c>, plus <c>prefix</c> = its kind.</summary>
    /// <param name="prefix">The prefix, for example <c>schedule</c>.</param>
    /// <param name="record">The object, or <see langword="null"/> (recorded as <c>none</c>).</param>
    /// <returns>This object.</returns>
    public RunSettings AddRecord(string prefix, object? record)
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        if (record is null)
        {
            return Add(prefix, "off");
        }

        string kind = SnakeCase(record.GetType().Name.Replace("Schedule", string.Empty, StringComparison.Ordinal).Replace("Options", string.Empty, StringComparison.Ordinal));
        Add(prefix, kind == prefix ? "on" : kind);
        foreach (PropertyInfo p in record.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetIndexParameters().Length == 0 && p.Name != "EqualityContract").OrderBy(p => p.MetadataToken))
        {
            Add(prefix + "." + SnakeCase(p.Name), p.GetValue(record));
        }

        return this;
    }

    /// <summary>Adds all of another list's settings.</summary>
    /// <param name="other">The other list, or <see langword="null"/>.</param>
    /// <returns>This object.</returns>
    public RunSettings AddRange(RunSettings? other)
    {
        if (other is not null)
        {
            _items.AddRange(other._items);
        }

        return this;
    }

    /// <summary>The first setting whose value differs between two lists, described for a person; <see langword="null"/> when they agree.</summary>
    /// <param name="saved">The settings a checkpoint recorded.</param>
    /// <param name="current">This run's settings.</param>
    /// <returns>A sentence such as <c>optimizer.momentum: the checkpoint has 0.9, this run 0.5</c>, or <see langword="null"/>.</returns>
    public static string? FirstDifference(RunSettings saved, RunSettings current)
    {
        ArgumentNullException.ThrowIfNull(saved);
        ArgumentNullException.ThrowIfNull(current);
        var old = saved._items.GroupBy(kv => kv.Key).ToDictionary(g => g.Key, g => g.First().Value, StringComparer.Ordinal);
        foreach ((string key, string value) in current._items)
        {
            if (!old.TryGetValue(key, out string? before))
            {
                return $"{key}: the checkpoint does not record it (this run has {value})";
            }

            if (before != value)
            {
                return $"{key}: the checkpoint has {before}, this run {value}";
            }
        }

        string? gone = saved._items.Select(kv => kv.Key).FirstOrDefault(k => current._items.All(kv => kv.Key != k));
        return gone is null ? null : $"{gone}: the checkpoint records it but this run does not have it";
    }

    /// <summary>The list as a JSON array of [name, value] pairs.</summary>
    /// <returns>The text.</returns>
    public string ToJson() => JsonSerializer.Serialize(_items.Select(kv => new[] { kv.Key, kv.Value }));

    /// <summary>Reads <see cref="ToJson"/>'s text.</summary>
    /// <param name="json">The text.</param>
    /// <returns>The settings.</returns>
    /// <exception cref="JsonException">The text is malformed.</exception>
    public static RunSettings FromJson(string json)
    {
        var settings = new RunSettings();
        foreach (string[] pair in JsonSerializer.Deserialize<string[][]>(json) ?? [])
        {
            if (pair.Length != 2 || string.IsNullOrEmpty(pair[0]))
            {
                throw new JsonException("A setting is not a [name, value] pair.");
            }

            settings._items.Add(KeyValuePair.Create(pair[0], pair[1]));
        }

        return settings;
    }

    private static string Format(object? value) => value switch
    {
        null => "none",
        string s => s,
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        IEnumerable e => "[" + string.Join(",", e.Cast<object?>().Select(Format)) + "]",
        _ => value.ToString() ?? "none",
    };

    private static string SnakeCase(string name)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0)
            {
                sb.Append('_');
            }

            sb.Append(char.ToLowerInvariant(name[i]));
        }

        return sb.ToString();
    }
}
