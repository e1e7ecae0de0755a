using Xent.Kernels;

namespace Xent.Nn;

/// <summary>Builds multi-layer perceptrons: Linear → ReLU (→ Dropout) … → Linear, named as PyTorch's nn.Sequential.</summary>
public static class Mlp
{
    /// <summary>Creates an MLP.</summary>
    /// <param name="inputs">Input features.</param>
    /// <param name="hidden">Hidden layer widths (may be empty: a linear model).</param>
    /// <param name="classes">Output logits.</param>
    /// <param name="random">Generator for the initial weights and dropout masks.</param>
    /// <param name="dropout">Dropout after each hidden ReLU; 0 (the default) for none.</param>
    /// <param name="logSoftmax">Whether to end with log_softmax (for the NLL loss).</param>
    /// <param name="cosineHead">Whether the last layer is a <see cref="CosineLinear"/> (outputs cos(x, w_j), for LDAM) rather than a <see cref="Linear"/>.</param>
    /// <returns>The model.</returns>
    public static Sequential Create(int inputs, IReadOnlyList<int> hidden, int classes, XentRandom random, float dropout = 0, bool logSoftmax = false, bool cosineHead = false)
    {
        ArgumentNullException.ThrowIfNull(hidden);
        var layers = new List<Module>();
        var masks = new XentRandom(random.NextUInt64()); // dropout draws from its own stream
        int width = inputs;
        foreach (int h in hidden)
        {
            layers.Add(new Linear(width, h, random));
            layers.Add(new ReLU(h));
            if (dropout > 0)
            {
                layers.Add(new Dropout(h, dropout, masks));
            }

            width = h;
        }

        layers.Add(cosineHead ? new CosineLinear(width, classes, random) : new Linear(width, classes, random));
        if (logSoftmax)
        {
            layers.Add(new LogSoftmax(classes));
        }

        var model = new Sequential([.. layers]);
        model.NameParameters();
        return model;
    }
}
