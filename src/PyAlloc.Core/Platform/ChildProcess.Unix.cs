using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Text;

namespace PyAlloc.Core.Platform;

/// <summary>
/// Runs a helper program (addr2line) and collects its standard output, with
/// posix_spawn, a pipe and waitpid on that one child.
/// </summary>
/// <remarks>
/// Not <c>System.Diagnostics.Process</c>: on Unix it installs a SIGCHLD handler that
/// reaps children and starts System.Native's signal thread, which would take the
/// host's children from under its own waitpid. Here nothing is written to the child
/// (its arguments carry the input), so no SIGPIPE can arise; its stdin and stderr are
/// /dev/null; the pipe is close-on-exec, so no other child of the host inherits it.
/// </remarks>
internal static unsafe partial class ChildProcess
{
    private const string C = "libc";
    private const int O_CLOEXEC = 0x80000, O_RDONLY = 0, O_WRONLY = 1;
    private const int FileActionsBytes = 256; // posix_spawn_file_actions_t: 80 bytes in glibc

    /// <summary>The program's standard output (UTF-8), or null when it cannot be run.</summary>
    /// <param name="path">The program's path.</param>
    /// <param name="argv">Its arguments, argv[0] first.</param>
    public static string? Output(string path, IReadOnlyList<string> argv)
    {
        int* fds = stackalloc int[2];
        if (Pipe2(fds, O_CLOEXEC) != 0)
            return null;
        byte* actions = stackalloc byte[FileActionsBytes];
        PosixSpawnFileActionsInit(actions);
        byte[] devNull = "/dev/null\0"u8.ToArray();
        int pid = -1, rc;
        fixed (byte* devNullPath = devNull)
        {
            PosixSpawnFileActionsAddOpen(actions, 0, devNullPath, O_RDONLY, 0);
            PosixSpawnFileActionsAddDup2(actions, fds[1], 1);
            PosixSpawnFileActionsAddOpen(actions, 2, devNullPath, O_WRONLY, 0);
            rc = Spawn(path, argv, actions, &pid);
        }
        PosixSpawnFileActionsDestroy(actions);
        Close(fds[1]);
        if (rc != 0)
        {
            Close(fds[0]);
            return null;
        }
        var output = new List<byte>();
        byte* buffer = stackalloc byte[4096];
        while (true)
        {
            nint n = Read(fds[0], buffer, 4096);
            if (n < 0 && *Libc.ErrnoLocation() == Libc.EINTR)
                continue;
            if (n <= 0)
                break;
            output.AddRange(new System.ReadOnlySpan<byte>(buffer, (int)n));
        }
        Close(fds[0]);
        int status;
        while (Waitpid(pid, &status, 0) < 0 && *Libc.ErrnoLocation() == Libc.EINTR)
        {
            // retry: a signal of the host's interrupted the wait
        }
        return Encoding.UTF8.GetString(output.ToArray());
    }

    /* posix_spawn with NUL-terminated copies of path and argv, and an empty environment. */
    private static int Spawn(string path, IReadOnlyList<string> argv, byte* actions, int* pid)
    {
        var handles = new List<GCHandle>(argv.Count + 1);
        try
        {
            byte** args = stackalloc byte*[argv.Count + 1];
            for (int i = 0; i < argv.Count; i++)
            {
                var h = GCHandle.Alloc(Encoding.UTF8.GetBytes(argv[i] + "\0"), GCHandleType.Pinned);
                handles.Add(h);
                args[i] = (byte*)h.AddrOfPinnedObject();
            }
            args[argv.Count] = null;
            var ph = GCHandle.Alloc(Encoding.UTF8.GetBytes(path + "\0"), GCHandleType.Pinned);
            handles.Add(ph);
            byte* noEnvironment = null;
            return PosixSpawn(pid, (byte*)ph.AddrOfPinnedObject(), actions, null, args, &noEnvironment);
        }
        finally
        {
            foreach (GCHandle h in handles)
                h.Free();
        }
    }

    [LibraryImport(C, EntryPoint = "pipe2"), SuppressGCTransition]
    private static partial int Pipe2(int* fds, int flags);

    [LibraryImport(C, EntryPoint = "posix_spawn")]
    private static partial int PosixSpawn(int* pid, byte* path, byte* fileActions, byte* attr, byte** argv, byte** envp);

    [LibraryImport(C, EntryPoint = "posix_spawn_file_actions_init"), SuppressGCTransition]
    private static partial int PosixSpawnFileActionsInit(byte* actions);

    [LibraryImport(C, EntryPoint = "posix_spawn_file_actions_destroy"), SuppressGCTransition]
    private static partial int PosixSpawnFileActionsDestroy(byte* actions);

    [LibraryImport(C, EntryPoint = "posix_spawn_file_actions_addopen"), SuppressGCTransition]
    private static partial int PosixSpawnFileActionsAddOpen(byte* actions, int fd, byte* path, int flags, uint mode);

    [LibraryImport(C, EntryPoint = "posix_spawn_file_actions_adddup2"), SuppressGCTransition]
    private static partial int PosixSpawnFileActionsAddDup2(byte* actions, int fd, int newFd);

    [LibraryImport(C, EntryPoint = "read")]
    private static partial nint Read(int fd, byte* buffer, nuint count);

    [LibraryImport(C, EntryPoint = "close"), SuppressGCTransition]
    private static partial int Close(int fd);

    [LibraryImport(C, EntryPoint = "waitpid")]
    private static partial int Waitpid(int pid, int* status, int options);
}
