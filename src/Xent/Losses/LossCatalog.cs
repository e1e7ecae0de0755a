using System.Globalization;
using System.Reflection;

namespace Xent.Losses;

/// <summary>One loss the catalog knows.</summary>
/// <param name="Name">Its CLI name.</param>
/// <param name="Summary">One line.</param>
/// <param name="Keys">Its parameters, with their defaults.</param>
/// <param name="NeedsClassCounts">Whether it is built from the training class counts.</param>
public sealed record LossEntry(string Name, string Summary, IReadOnlyList<KeyValuePair<string, double>> Keys, bool NeedsClassCounts);

/// <summary>
/// Finds losses by name: every <see cref="ClassificationLoss"/> in this assembly that carries a
/// <see cref="LossNameAttribute"/>. Text such as <c>focal:gamma=2</c> or <c>ldam:max-margin=0.5,scale=30</c> names a
/// loss and sets its constructor's parameters (kebab-case keys; underscores are accepted too); a loss whose
/// constructor takes <c>classCounts</c> is given the training class counts. Adding a loss is one file: the type and
/// its attribute. No switch lists them.
/// </summary>
public static class LossCatalog
{
    private static readonly Dictionary<string, (Type Type, LossNameAttribute Attribute, ConstructorInfo Constructor)> Losses = Discover();

    /// <summary>Every loss, by name.</summary>
    public static IReadOnlyList<LossEntry> Entries { get; } = [.. Losses.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => new LossEntry(
        l.Key,
        l.Value.Attribute.Summary,
        [.. l.Value.Constructor.GetParameters().Where(p => p.Name != "classCounts").Select(p => KeyValuePair.Create(Kebab(p.Name!), p.HasDefaultValue ? Convert.ToDouble(p.DefaultValue, CultureInfo.InvariantCulture) : double.NaN))],
        l.Value.Constructor.GetParameters().Any(p => p.Name == "classCounts")))];

    /// <summary>Checks a loss text (name and keys) without building the loss.</summary>
    /// <param name="text">For example <c>focal:gamma=2</c>.</param>
    /// <returns>The catalog entry.</returns>
    /// <exception cref="FormatException">An unknown name or key, or a value that is not a number; the message lists what is accepted.</exception>
    public static LossEntry Check(string text)
    {
        (string name, Dictionary<string, double> values) = Parse(text);
        LossEntry entry = Entries.Single(e => e.Name == name);
        string? unknown = values.Keys.FirstOrDefault(k => entry.Keys.All(e => e.Key != k));
        if (unknown is not null)
        {
            throw new FormatException($"--loss {text}: {name} has no parameter '{unknown}'; it takes {(entry.Keys.Count == 0 ? "none" : string.Join(", ", entry.Keys.Select(k => k.Key)))}.");
        }

        return entry;
    }

    /// <summary>Builds a loss from its text.</summary>
    /// <param name="text">For example <c>logit-adjusted:tau=1</c>.</param>
    /// <param name="classCounts">Training rows per class, for the losses that need them; <see langword="null"/> otherwise.</param>
    /// <returns>The loss.</returns>
    /// <exception cref="FormatException">The text is not a known loss with valid parameters, or class counts are needed and missing; the message says which.</exception>
    public static ClassificationLoss Create(string text, IReadOnlyList<int>? classCounts = null)
    {
        Check(text);
        (string name, Dictionary<string, double> values) = Parse(text);
        ConstructorInfo constructor = Losses[name].Constructor;
        ParameterInfo[] parameters = constructor.GetParameters();
        var arguments = new object?[parameters.Length];
        for (int i = 0; i < parameters.Length; i++)
        {
            ParameterInfo p = parameters[i];
            if (p.Name == "classCounts")
            {
                arguments[i] = classCounts ?? throw new FormatException($"--loss {text}: {name} is built from the training class counts, and none were given.");
            }
            else
            {
                arguments[i] = values.TryGetValue(Kebab(p.Name!), out double v) ? v : p.HasDefaultValue ? p.DefaultValue : throw new FormatException($"--loss {text}: {name} needs {Kebab(p.Name!)}=VALUE.");
            }
        }

        try
        {
            return (ClassificationLoss)constructor.Invoke(arguments);
        }
        catch (TargetInvocationException e) when (e.InnerException is ArgumentException inner)
        {
            throw new FormatException($"--loss {text}: {inner.Message.Split(" (Parameter")[0]}", inner);
        }
    }

    /// <summary>Splits <c>NAME[:key=value,…]</c>; names and keys are lower-case with '-' (an '_' reads as '-').</summary>
    private static (string Name, Dictionary<string, double> Values) Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string trimmed = text.Trim();
        int colon = trimmed.IndexOf(':', StringComparison.Ordinal);
        string name = Normalise(colon < 0 ? trimmed : trimmed[..colon]);
        if (name is "ce" or "cross-entropy-loss")
        {
            name = "cross-entropy";
        }

        if (!Losses.ContainsKey(name))
        {
            throw new FormatException($"--loss: unknown loss '{text}'; expected one of {string.Join(", ", Losses.Keys.Order(StringComparer.Ordinal))}, with parameters as NAME:key=value,… (for example focal:gamma=2).");
        }

        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        if (colon >= 0 && string.IsNullOrWhiteSpace(trimmed[(colon + 1)..]))
        {
            throw new FormatException($"--loss {text}: nothing follows ':'; give parameters as {name}:key=value,… or drop the ':'.");
        }

        if (colon >= 0)
        {
            foreach (string part in trimmed[(colon + 1)..].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                string[] kv = part.Split('=', 2, StringSplitOptions.TrimEntries);
                if (kv.Length != 2 || !double.TryParse(kv[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !double.IsFinite(value))
                {
                    throw new FormatException($"--loss {text}: '{part}' is not key=NUMBER.");
                }

                if (!values.TryAdd(Normalise(kv[0]), value))
                {
                    throw new FormatException($"--loss {text}: '{kv[0]}' is given twice.");
                }
            }
        }

        return (name, values);
    }

    private static string Normalise(string text) => text.Trim().ToLowerInvariant().Replace('_', '-');

    private static string Kebab(string name) => string.Concat(name.Select((ch, i) => char.IsUpper(ch) ? (i > 0 ? "-" : string.Empty) + char.ToLowerInvariant(ch) : ch.ToString()));

    private static Dictionary<string, (Type, LossNameAttribute, ConstructorInfo)> Discover()
    {
        var found = new Dictionary<string, (Type, LossNameAttribute, ConstructorInfo)>(StringComparer.Ordinal);
        foreach (Type type in typeof(ClassificationLoss).Assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(ClassificationLoss)) && !t.IsAbstract))
        {
            if (type.GetCustomAttribute<LossNameAttribute>() is { } attribute)
            {
                ConstructorInfo constructor = type.GetConstructors().OrderByDescending(c => c.GetParameters().Length).First();
                found.Add(attribute.Name, (type, attribute, constructor));
            }
        }

        return found;
    }
}
