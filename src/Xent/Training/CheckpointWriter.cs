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

    /// <summary>Copies the checkpoint's tensors and a snapshot of the state now; writes the history log's queued lines, then the checkpoint (whose metadata records the log's lengths) to <paramref name="path"/>, in the background.</summary>
    /// <exception cref="InvalidOperationException">A tensor holds a non-finite value (nothing is written).</exception>
    /// <exception cref="IOException">The previous checkpoint could not be written.</exception>
    /// <param name="path">The checkpoint file.</param>
    /// <param name="model">The model.</param>
    /// <param name="optimizer">The optimizer.</param>
    /// <param name="best">The best weights so far, or null.</param>
    /// <param name="state">The loop's state: a snapshot is taken now.</param>
    /// <param name="settings">The run's settings.</param>
    /// <param name="writeLog">Writes the history log's queued records and returns its files' lengths, which the checkpoint records (run first, in the background), or null.</param>
    public void Save(string path, Sequential model, Optimizer optimizer, float[][]? best, TrainingState state, RunSettings settings, Func<(long BatchBytes, long EpochBytes)>? writeLog = null)
    {
        List<KeyValuePair<string, NamedTensor>> tensors;
        try
        {
            Wait();
            tensors = Checkpoint.Tensors(model, optimizer, best);
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
        }
        catch when (writeLog is not null)
        {
            // No checkpoint this time (a failed write before, or weights that are not finite): the log's queued lines
            // still reach the file, for the user who looks at why the run stopped.
            try
            {
                _ = writeLog();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The first failure is the one to report.
            }

            throw;
        }

        TrainingState snapshot = state.Snapshot();
        _pending = Task.Run(() =>
        {
            // The log first: the checkpoint records its lengths, so a resume never reads past what reached the file.
            if (writeLog is not null)
            {
                (snapshot.BatchLogBytes, snapshot.EpochLogBytes) = writeLog();
            }

            Safetensors.Write(path, tensors, Checkpoint.Metadata(snapshot, settings));
        });
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
