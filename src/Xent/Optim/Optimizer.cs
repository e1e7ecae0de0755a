using Xent.Nn;

namespace Xent.Optim;

/// <summary>
/// Updates parameters from their gradients, with PyTorch's update rules. State (momentum buffers, moments, the
/// step count) can be exported and restored for checkpoints.
/// </summary>
public abstract class Optimizer
{
    /// <summary>Creates the optimizer over parameters.</summary>
    /// <param name="parameters">The parameters it updates.</param>
    /// <param name="learningRate">The initial learning rate.</param>
    protected Optimizer(IReadOnlyList<Parameter> parameters, double learningRate)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(learningRate >= 0) || double.IsInfinity(learningRate))
        {
            throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, "The learning rate must be a finite number ≥ 0.");
        }

        Parameters = parameters;
        LearningRate = learningRate;
    }

    /// <summary>The parameters it updates.</summary>
    public IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>The current learning rate (a schedule may change it between steps).</summary>
    public double LearningRate { get; set; }

    /// <summary>The optimizer's name as the CLI writes it (<c>sgd</c>, <c>adam</c>, <c>adamw</c>).</summary>
    public abstract string Name { get; }

    /// <summary>The options record the optimizer was made with (every hyper-parameter, including the base learning rate).</summary>
    public abstract object HyperParameters { get; }

    /// <summary>Steps taken so far.</summary>
    public long Steps { get; protected set; }

    /// <summary>Applies one update from the current gradients.</summary>
    public abstract void Step();

    /// <summary>The state tensors, by name (for example <c>0.weight.exp_avg</c>), and the step count.</summary>
    /// <returns>The state.</returns>
    public abstract IReadOnlyDictionary<string, float[]> ExportState();

    /// <summary>Restores state from <see cref="ExportState"/>.</summary>
    /// <param name="state">The tensors by name.</param>
    /// <param name="steps">The step count.</param>
    /// <exception cref="FormatException">A tensor is missing or has the wrong length.</exception>
    public abstract void ImportState(IReadOnlyDictionary<string, float[]> state, long steps);

    /// <summary>Copies a named state tensor into a buffer, checking its length.</summary>
    protected static void Restore(IReadOnlyDictionary<string, float[]> state, string name, float[] into)
    {
        if (!state.TryGetValue(name, out float[]? values))
        {
            throw new FormatException($"Optimizer state '{name}' is missing.");
        }

        if (values.Length != into.Length)
        {
            throw new FormatException($"Optimizer state '{name}' has {values.Length} values; the parameter has {into.Length}.");
        }

        values.CopyTo(into, 0);
    }
}
