namespace Xent.Data;

/// <summary>How a CSV column is read and encoded.</summary>
public enum ColumnKind
{
    /// <summary>Numbers: imputed with the training median when missing, then standardised.</summary>
    Numeric,

    /// <summary>Text categories: imputed with the most frequent training value when missing, then one-hot encoded.</summary>
    Categorical,

    /// <summary>true/false, yes/no, t/f, y/n (any case): encoded like a category with the values <c>false</c> and <c>true</c>.</summary>
    Boolean,
}

/// <summary>Parses and names <see cref="ColumnKind"/>.</summary>
public static class ColumnKindNames
{
    /// <summary>The lower-case name.</summary>
    /// <param name="kind">The kind.</param>
    /// <returns>numeric, categorical or boolean.</returns>
    public static string Name(this ColumnKind kind) => kind switch
    {
        ColumnKind.Categorical => "categorical",
        ColumnKind.Boolean => "boolean",
        _ => "numeric",
    };
}
