namespace Xent.Cli;

/// <summary>What a process knows of the MPI launcher that started it, from its environment, without loading MPI.</summary>
internal static class MpiLaunch
{
    /// <summary>
    /// The size of the job this process was started in (Open MPI's <c>OMPI_COMM_WORLD_SIZE</c>, or the PMI/PMIx variables
    /// of other launchers), or null when no launcher started it.
    /// </summary>
    /// <returns>The number of processes, or null.</returns>
    public static int? Processes()
    {
        foreach (string name in new[] { "OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE" })
        {
            if (int.TryParse(Environment.GetEnvironmentVariable(name), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int size) && size > 0)
            {
                return size;
            }
        }

        return null;
    }
}
