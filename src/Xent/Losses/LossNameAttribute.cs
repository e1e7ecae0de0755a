namespace Xent.Losses;

/// <summary>
/// Names a <see cref="ClassificationLoss"/> for <see cref="LossCatalog"/>: the CLI's <c>--loss NAME:key=value</c> and
/// the case files' <c>loss</c> field find it by this name. The loss's public constructor's parameters are its keys
/// (camelCase in C#, kebab-case on the command line); a parameter named <c>classCounts</c> receives the training
/// class counts.
/// </summary>
/// <param name="name">The CLI name, for example <c>logit-adjusted</c>.</param>
/// <param name="summary">One line for <c>--help</c> and the docs.</param>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class LossNameAttribute(string name, string summary) : Attribute
{
    /// <summary>The CLI name.</summary>
    public string Name { get; } = name;

    /// <summary>One line for help texts.</summary>
    public string Summary { get; } = summary;
}
