using System.Collections.Concurrent;
using System.Globalization;
using Xent.Data;
using Xent.Kernels;
using Xent.Nn;

namespace Xent.Training;

/// <summary>One prediction: the most probable class and every class's probability.</summary>
/// <param name="Class">The predicted class's name.</param>
/// <param name="ClassIndex">Its index in <see cref="Classifier.ClassNames"/>.</param>
/// <param name="Probabilities">One probability per class.</param>
public sealed record Prediction(string Class, int ClassIndex, IReadOnlyList<float> Probabilities);

/// <summary>
/// A trained model, ready to predict: <see cref="Load"/> reads a model file written by <c>xent train</c> (or
/// <see cref="ModelFile.Save"/>) with its column pipeline (imputation, one-hot encoding, standardisation), so that
/// raw rows of named values go in and class probabilities come out. It is safe for concurrent callers (each call
/// borrows one of a pool of model replicas), and the span path allocates nothing per call once warm.
/// </summary>
/// <remarks>
/// The weights of the linear layers are packed once, at load, for the inference GEMM (<see cref="Sgemm.MultiplyPacked"/>,
/// bias and ReLU fused), and shared by the replicas. A large batch is cut into row chunks that run the whole network on
/// one thread each, over <see cref="Parallelism.MaxDegree"/> threads; the probabilities are the same for any thread count.
/// </remarks>
public sealed class Classifier
{
    private readonly LayerSpec _spec;
    private readonly IReadOnlyList<Parameter> _weights;
    private readonly PackedLinear?[] _packed;
    // A plain locked stack, not a ConcurrentBag: the bag allocates a queue for each thread that first adds to it, so a
    // warm call whose chunks landed on a thread that had not returned a replica before allocated.
    private readonly Lock _poolLock = new();
    private InferencePlan[] _pool = new InferencePlan[4];
    private int _pooled;
    private InferencePlan? _cached;
    private readonly long _flopsPerRow;
    private int _replicaCount = 1;
    private readonly double[]? _offset;
    private readonly bool _logProbabilities;
    private readonly double _scale;

    private Classifier(Sequential model, ModelInfo info, double? logitAdjustment)
    {
        _spec = model.Spec;
        // Parameters and buffers (BatchNorm's running statistics): a replica needs both.
        _weights = model.StateTensors;
        _packed = InferencePlan.Pack(model);
        _cached = new InferencePlan(model, _packed);
        _flopsPerRow = _cached.FlopsPerRow;
        Info = info;
        _logProbabilities = info.Loss == "nll";
        _scale = info.LogitScale;
        if (logitAdjustment is double tau)
        {
            if (!double.IsFinite(tau))
            {
                throw new ArgumentOutOfRangeException(nameof(logitAdjustment), tau, "The logit adjustment τ must be a finite number.");
            }

            _offset = info.ClassCounts is { } counts
                ? Evaluation.LogitAdjustment(counts, tau)
                : throw new ArgumentException("Post-hoc logit adjustment needs the training class counts, which this model file does not hold (it was trained by an older Xent).", nameof(logitAdjustment));
        }
    }

    /// <summary>What the model file records: class names, input columns, the column pipeline, the loss.</summary>
    public ModelInfo Info { get; }

    /// <summary>The classes, in output order.</summary>
    public IReadOnlyList<string> ClassNames => Info.ClassNames;

    /// <summary>The input columns a raw row must name.</summary>
    public IReadOnlyList<string> FeatureNames => Info.FeatureNames;

    /// <summary>The width of an encoded row (the model's inputs), for <see cref="PredictProbabilities(ReadOnlySpan{float}, int, Span{float})"/>.</summary>
    public int EncodedWidth => Info.Preprocessor?.OutputWidth ?? Info.FeatureNames.Count;

    /// <summary>Loads a model file.</summary>
    /// <param name="path">The model file.</param>
    /// <param name="logitAdjustment">Post-hoc logit adjustment τ (predict argmax of z − τ·log π from the stored class counts), or <see langword="null"/> for none.</param>
    /// <returns>The classifier.</returns>
    /// <exception cref="InvalidDataException">The file is not a valid Xent model; the message says why.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ArgumentException">A logit adjustment is asked for but the model holds no class counts.</exception>
    public static Classifier Load(string path, double? logitAdjustment = null)
    {
        (Sequential model, ModelInfo info) = ModelFile.Load(path);
        return new Classifier(model, info, logitAdjustment);
    }

    /// <summary>Predicts one row of named raw values.</summary>
    /// <param name="row">Each input column's value: a number (or its text) for a numeric column, text (or a bool or number) for a categorical one; <see langword="null"/>, an empty string or a missing-value spelling for a missing cell. Other keys are ignored.</param>
    /// <returns>The prediction.</returns>
    /// <exception cref="ArgumentException">A column is absent from the row, or a numeric column holds text that is not a number; the message names the column.</exception>
    public Prediction Predict(IReadOnlyDictionary<string, object?> row)
    {
        ArgumentNullException.ThrowIfNull(row);
        return Predict([row])[0];
    }

    /// <summary>Predicts a batch of rows of named raw values.</summary>
    /// <param name="rows">The rows (see <see cref="Predict(IReadOnlyDictionary{string, object})"/>).</param>
    /// <returns>One prediction per row.</returns>
    /// <exception cref="ArgumentException">A row lacks a column, or holds text where a number is expected; the message names the row and the column.</exception>
    public IReadOnlyList<Prediction> Predict(IReadOnlyList<IReadOnlyDictionary<string, object?>> rows)
    {
        float[] p = PredictProbabilities(rows);
        int c = ClassNames.Count;
        var result = new Prediction[rows.Count];
        for (int i = 0; i < result.Length; i++)
        {
            float[] row = p[(i * c)..((i + 1) * c)];
            int best = System.Numerics.Tensors.TensorPrimitives.IndexOfMax<float>(row);
            result[i] = new Prediction(ClassNames[best], best, row);
        }

        return result;
    }

    /// <summary>Class probabilities of a batch of rows of named raw values.</summary>
    /// <param name="rows">The rows.</param>
    /// <returns>Rows × classes probabilities, row-major.</returns>
    /// <exception cref="ArgumentException">A row lacks a column, or holds text where a number is expected.</exception>
    public float[] PredictProbabilities(IReadOnlyList<IReadOnlyDictionary<string, object?>> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        float[] encoded = Encode(rows);
        var probabilities = new float[rows.Count * ClassNames.Count];
        PredictProbabilities(encoded, rows.Count, probabilities);
        return probabilities;
    }

    /// <summary>Class probabilities of already-encoded rows (the model's inputs, <see cref="EncodedWidth"/> each), into a caller-supplied destination. Allocates nothing once warm.</summary>
    /// <param name="encoded">Rows × <see cref="EncodedWidth"/> values.</param>
    /// <param name="rows">The number of rows.</param>
    /// <param name="destination">Rows × classes, receives the probabilities.</param>
    /// <exception cref="ArgumentException">The spans do not hold <paramref name="rows"/> rows.</exception>
    public void PredictProbabilities(ReadOnlySpan<float> encoded, int rows, Span<float> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        int d = EncodedWidth, c = ClassNames.Count;
        if (encoded.Length != (long)rows * d)
        {
            throw new ArgumentException($"{rows} rows of {d} encoded inputs are {(long)rows * d} values; the span holds {encoded.Length}.", nameof(encoded));
        }

        if (destination.Length < (long)rows * c)
        {
            throw new ArgumentException($"The destination holds {destination.Length} values; {rows} rows of {c} classes need {(long)rows * c}.", nameof(destination));
        }

        // Rows are independent, so a large batch is cut into chunks that run the whole network (and the softmax) on one
        // thread each: one fork-join per call, and the results are the same whatever thread ran a chunk.
        int degree = Parallelism.MaxDegree;
        if (degree > 1 && rows > 1 && (long)rows * _flopsPerRow >= ParallelFlops)
        {
            int chunk = Math.Min(MaxChunk, (((rows + degree - 1) / degree) + 7) / 8 * 8);
            int chunks = (rows + chunk - 1) / chunk;
            EnsureReplicas(Math.Min(degree, chunks));
            unsafe
            {
                fixed (float* pe = encoded)
                fixed (float* pd = destination)
                {
                    PredictWork work = t_work ??= new PredictWork();
                    work.Owner = this;
                    work.Encoded = pe;
                    work.Destination = pd;
                    (work.Rows, work.Chunk) = (rows, chunk);
                    try
                    {
                        WorkerPool.For(chunks, degree, work);
                    }
                    finally
                    {
                        work.Owner = null;
                    }
                }
            }

            return;
        }

        for (int start = 0; start < rows; start += MaxChunk)
        {
            int m = Math.Min(MaxChunk, rows - start);
            PredictChunk(encoded.Slice(start * d, m * d), m, destination.Slice(start * c, m * c));
        }
    }

    /// <summary>Rows per forward call: bounds the activations a replica holds.</summary>
    private const int MaxChunk = 256;

    /// <summary>Batches below this many flops run on the calling thread (scheduling would cost more than it saves).</summary>
    private const long ParallelFlops = 1L << 21;

    [ThreadStatic]
    private static PredictWork? t_work;

    /// <summary>One parallel call's chunks, reused per calling thread so that a warm call allocates nothing.</summary>
    private sealed unsafe class PredictWork : IParallelWork
    {
        public Classifier? Owner;
        public float* Encoded, Destination;
        public int Rows, Chunk;

        public void Run(int index)
        {
            Classifier owner = Owner!;
            int d = owner.EncodedWidth, c = owner.ClassNames.Count;
            int start = index * Chunk, m = Math.Min(Chunk, Rows - start);
            owner.PredictChunk(new ReadOnlySpan<float>(Encoded + ((long)start * d), m * d), m, new Span<float>(Destination + ((long)start * c), m * c));
        }
    }

    /// <summary>Probabilities of up to <see cref="MaxChunk"/> rows, on the calling thread, with a borrowed replica.</summary>
    private void PredictChunk(ReadOnlySpan<float> encoded, int rows, Span<float> destination)
    {
        int c = ClassNames.Count;
        InferencePlan model = Rent();
        try
        {
            ReadOnlySpan<float> output = model.Forward(encoded, rows);
            for (int i = 0; i < rows; i++)
            {
                Evaluation.ToProbabilities(output.Slice(i * c, c), destination.Slice(i * c, c), _logProbabilities, _offset, _scale);
            }
        }
        finally
        {
            if (Interlocked.CompareExchange(ref _cached, model, null) is not null)
            {
                Return(model);
            }
        }
    }

    /// <summary>Encodes rows of named raw values into the model's inputs (imputation, one-hot, standardisation).</summary>
    /// <param name="rows">The rows.</param>
    /// <returns>Rows × <see cref="EncodedWidth"/> values.</returns>
    /// <exception cref="ArgumentException">A row lacks a column, or holds text where a number is expected.</exception>
    public float[] Encode(IReadOnlyList<IReadOnlyDictionary<string, object?>> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        IReadOnlyList<KeyValuePair<string, ColumnKind>> schema = Info.Preprocessor?.Schema ?? [.. FeatureNames.Select(n => KeyValuePair.Create(n, ColumnKind.Numeric))];
        IReadOnlyList<string> missing = Info.Preprocessor?.MissingTokens ?? TableReadOptions.DefaultMissingTokens;
        var columns = new FeatureColumn[schema.Count];
        for (int j = 0; j < schema.Count; j++)
        {
            (string name, ColumnKind kind) = schema[j];
            if (kind == ColumnKind.Numeric)
            {
                var values = new float[rows.Count];
                for (int i = 0; i < rows.Count; i++)
                {
                    values[i] = Number(Value(rows, i, name), name, i, missing);
                }

                columns[j] = new NumericColumn(name, values);
            }
            else
            {
                var codes = new int[rows.Count];
                var index = new Dictionary<string, int>(StringComparer.Ordinal);
                for (int i = 0; i < rows.Count; i++)
                {
                    string? text = Text(Value(rows, i, name), kind, missing);
                    if (text is null)
                    {
                        codes[i] = -1;
                        continue;
                    }

                    if (!index.TryGetValue(text, out int code))
                    {
                        code = index.Count;
                        index[text] = code;
                    }

                    codes[i] = code;
                }

                columns[j] = new CategoricalColumn(name, kind, codes, [.. index.OrderBy(kv => kv.Value).Select(kv => kv.Key)]);
            }
        }

        var table = new DataTable(columns, new int[rows.Count], ClassNames);
        if (Info.Preprocessor is { } pre)
        {
            return pre.Transform(table).Data.Features;
        }

        var features = new float[rows.Count * columns.Length];
        for (int i = 0; i < rows.Count; i++)
        {
            for (int j = 0; j < columns.Length; j++)
            {
                float v = ((NumericColumn)columns[j]).Values[i];
                features[(i * columns.Length) + j] = float.IsNaN(v)
                    ? throw new ArgumentException($"Row {i}: feature '{columns[j].Name}' is missing, and this model (by an older Xent) has no imputation.", nameof(rows))
                    : Info.Standardizer is { } s ? (v - s.Mean[j]) / s.Scale[j] : v;
            }
        }

        return features;
    }

    private static object? Value(IReadOnlyList<IReadOnlyDictionary<string, object?>> rows, int i, string name)
    {
        IReadOnlyDictionary<string, object?> row = rows[i] ?? throw new ArgumentException($"Row {i} is null.", nameof(rows));
        return row.TryGetValue(name, out object? value)
            ? value
            : throw new ArgumentException($"Row {i} has no value for the feature '{name}' (give null for a missing value).", nameof(rows));
    }

    private static bool IsMissing(string text, IReadOnlyList<string> missing)
        => text.Length == 0 || missing.Any(m => string.Equals(m, text, StringComparison.OrdinalIgnoreCase));

    private static float Number(object? value, string name, int row, IReadOnlyList<string> missing) => value switch
    {
        null => float.NaN,
        float f when float.IsFinite(f) => f,
        double d when double.IsFinite(d) => (float)d,
        int or long or short or byte or decimal or uint or ulong => Convert.ToSingle(value, CultureInfo.InvariantCulture),
        string s when IsMissing(s.Trim(), missing) => float.NaN,
        string s when float.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out float parsed) && float.IsFinite(parsed) => parsed,
        float or double => throw new ArgumentException($"Row {row}: feature '{name}' is {value}; it must be finite (use null for a missing value).", nameof(value)),
        _ => throw new ArgumentException($"Row {row}: feature '{name}' is numeric, but the row holds '{value}', which is not a number.", nameof(value)),
    };

    private static string? Text(object? value, ColumnKind kind, IReadOnlyList<string> missing)
    {
        string? text = value switch
        {
            null => null,
            bool b => b ? "true" : "false",
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => value.ToString(),
        };
        text = text?.Trim();
        if (text is null || IsMissing(text, missing))
        {
            return null;
        }

        if (kind == ColumnKind.Boolean)
        {
            return text.ToLowerInvariant() switch
            {
                "true" or "yes" or "t" or "y" => "true",
                "false" or "no" or "f" or "n" => "false",
                _ => text,
            };
        }

        return text;
    }

    /// <summary>
    /// A model replica for one call: the cached one (a single caller at a time takes it without touching the pool), the
    /// pool's, or a new one built from the spec with the same weights. The packed weights are shared by all replicas.
    /// </summary>
    private InferencePlan Rent()
    {
        if (Interlocked.Exchange(ref _cached, null) is { } cached)
        {
            return cached;
        }

        lock (_poolLock)
        {
            if (_pooled > 0)
            {
                InferencePlan model = _pool[--_pooled];
                _pool[_pooled] = null!;
                return model;
            }
        }

        return NewReplica();
    }

    /// <summary>Puts a replica back in the pool (which grows only when replicas are added, never on a warm call).</summary>
    private void Return(InferencePlan model)
    {
        lock (_poolLock)
        {
            Push(model);
        }
    }

    /// <summary>Pushes a replica; the caller holds <see cref="_poolLock"/>.</summary>
    private void Push(InferencePlan model)
    {
        if (_pooled == _pool.Length)
        {
            Array.Resize(ref _pool, _pool.Length * 2);
        }

        _pool[_pooled++] = model;
    }

    /// <summary>Makes sure <paramref name="count"/> replicas exist, so that a parallel call's chunks find one each instead of building one on whichever thread runs short.</summary>
    private void EnsureReplicas(int count)
    {
        if (Volatile.Read(ref _replicaCount) >= count)
        {
            return;
        }

        lock (_poolLock)
        {
            while (_replicaCount < count)
            {
                Push(NewReplica());
            }
        }
    }

    /// <summary>A new replica built from the spec with the same weights (the packed ones are shared).</summary>
    private InferencePlan NewReplica()
    {
        Interlocked.Increment(ref _replicaCount);
        var replica = (Sequential)_spec.Build(new XentRandom(0));
        replica.NameParameters();
        IReadOnlyList<Parameter> state = replica.StateTensors;
        for (int i = 0; i < _weights.Count; i++)
        {
            _weights[i].Value.CopyTo(state[i].Value, 0);
        }

        return new InferencePlan(replica, _packed);
    }
}
