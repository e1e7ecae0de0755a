using Xent.Nn;
using Xent.Optim;

namespace Xent.Training;

/// <summary>
/// Writes a run's checkpoints in the background: <see cref="Save"/> checks and copies what the checkpoint holds (into
/// buffers reused from one checkpoint to the next) and returns, and the write, with its flush to disk, overlaps the
/// training that follows. One write is in flight at a time: each <see cref="Save"/> first waits for the one before and
/// rethrows its failure. The file is still replaced atomically, so a kill at any moment leaves a whole checkpoint: the
/// one being written once it is renamed into place, else the one before.
/// </summary>
internal sealed class CheckpointWriter
{
    private readonly List<float[]> _copies = [];
    private Task? _pending;

    /// <summary>Copies the checkpoint's tensors and metadata now, and writes them to <paramref name="path"/> in the background.</summary>
    /// <exception cref="InvalidOperationException">A tensor holds a non-finite value (nothing is written).</exception>
    /// <exception cref="IOException">The previous checkpoint could not be written.</exception>
    public void Save(string path, Sequential model, Optimizer optimizer, float[][]? best, TrainingState state, RunSettings settings)
    {
        Wait();
        List<KeyValuePair<string, NamedTensor>> tensors = Checkpoint.Tensors(model, optimizer, best);
        Checkpoint.CheckFinite(tensors);
        for (int i = 0; i < tensors.Count; i++)
        {
            NamedTensor t = tensors[i].Value;
            if (i == _copies.Count)
            {
                _copies.Add(new float[t.Values.Length]);
            }
            else if (_copies[i].Length != t.Values.Length)
            {
                _copies[i] = new float[t.Values.Length];
            }

            t.Values.CopyTo(_copies[i], 0);
            tensors[i] = KeyValuePair.Create(tensors[i].Key, new NamedTensor(t.Shape, _copies[i]) { DType = t.DType });
        }

        Dictionary<string, string> metadata = Checkpoint.Metadata(state, settings);
        _pending = Task.Run(() => Safetensors.Write(path, tensors, metadata));
    }

    /// <summary>Waits for the write in flight, if any, and rethrows its failure.</summary>
    public void Wait()
    {
        if (_pending is { } pending)
        {
            _pending = null;
            pending.GetAwaiter().GetResult();
        }
    }

    /// <summary>
    /// Waits for the write in flight on a path that is already failing (divergence, cancellation, another error): that
    /// error is the one to report, and a failed write leaves the checkpoint before it in place.
    /// </summary>
    public void WaitQuietly()
    {
        try
        {
            Wait();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The earlier checkpoint stays whole (atomic replace); the caller's own exception is reported.
        }
    }
}
