using System.Runtime.InteropServices;

namespace PyAlloc.Core.Platform;

/// <summary>The C library calls PyAlloc uses on Unix-like systems.</summary>
/// <remarks>
/// Calls that return quickly and never block for long carry
/// <see cref="SuppressGCTransitionAttribute"/>; <c>mmap</c> and <c>munmap</c> do not,
/// since the kernel may take its time over them.
/// </remarks>
internal static unsafe partial class Libc
{
    private const string Name = "libc";

    public const int PROT_READ = 1, PROT_WRITE = 2;
    public const int MAP_PRIVATE = 0x02, MAP_ANONYMOUS = 0x20;
    public const int MADV_DONTNEED = 4;
    public const int ENOMEM = 12, EINTR = 4;
    public const int _SC_PAGESIZE = 30;
    public static void* MAP_FAILED => (void*)-1;

    [LibraryImport(Name, EntryPoint = "mmap")]
    public static partial void* Mmap(void* addr, nuint length, int prot, int flags, int fd, nint offset);

    [LibraryImport(Name, EntryPoint = "munmap")]
    public static partial int Munmap(void* addr, nuint length);

    [LibraryImport(Name, EntryPoint = "madvise")]
    public static partial int Madvise(void* addr, nuint length, int advice);

    [LibraryImport(Name, EntryPoint = "mincore")]
    public static partial int Mincore(void* addr, nuint length, byte* vec);

    [LibraryImport(Name, EntryPoint = "sysconf"), SuppressGCTransition]
    public static partial nint Sysconf(int name);

    [LibraryImport(Name, EntryPoint = "malloc"), SuppressGCTransition]
    public static partial void* Malloc(nuint size);

    [LibraryImport(Name, EntryPoint = "calloc"), SuppressGCTransition]
    public static partial void* Calloc(nuint nelem, nuint elsize);

    [LibraryImport(Name, EntryPoint = "realloc"), SuppressGCTransition]
    public static partial void* Realloc(void* p, nuint size);

    [LibraryImport(Name, EntryPoint = "free"), SuppressGCTransition]
    public static partial void Free(void* p);

    [LibraryImport(Name, EntryPoint = "malloc_usable_size"), SuppressGCTransition]
    public static partial nuint MallocUsableSize(void* p);

    /// <summary>
    /// <c>getrandom(2)</c>: random bytes from the kernel without opening a file (the
    /// .NET random sources keep <c>/dev/urandom</c> open, which would take the host's
    /// lowest free descriptor).
    /// </summary>
    [LibraryImport(Name, EntryPoint = "getrandom")]
    public static partial nint Getrandom(void* buffer, nuint length, uint flags);

    [LibraryImport(Name, EntryPoint = "malloc_trim")]
    public static partial int MallocTrim(nuint pad);

    [LibraryImport(Name, EntryPoint = "__errno_location"), SuppressGCTransition]
    public static partial int* ErrnoLocation();

    [LibraryImport(Name, EntryPoint = "fwrite")]
    public static partial nuint Fwrite(void* ptr, nuint size, nuint nmemb, void* stream);

    [LibraryImport(Name, EntryPoint = "fflush")]
    public static partial int Fflush(void* stream);

    /// <summary>dladdr's Dl_info.</summary>
    public struct DlInfo
    {
        public byte* FileName;
        public void* FileBase;
        public byte* SymbolName;
        public void* SymbolAddress;
    }

    [LibraryImport(Name, EntryPoint = "dladdr")]
    public static partial int Dladdr(void* address, DlInfo* info);

    [LibraryImport(Name, EntryPoint = "write")]
    public static partial nint Write(int fd, void* buffer, nuint count);

    [LibraryImport(Name, EntryPoint = "getenv"), SuppressGCTransition]
    public static partial byte* Getenv(byte* name);

    public const int O_RDONLY = 0, O_WRONLY = 1, O_CREAT = 0x40, O_TRUNC = 0x200, O_CLOEXEC = 0x80000;
    public const int SEEK_SET = 0, SEEK_END = 2;

    [LibraryImport(Name, EntryPoint = "open")]
    public static partial int Open(byte* path, int flags, int mode);

    [LibraryImport(Name, EntryPoint = "read")]
    public static partial nint Read(int fd, void* buffer, nuint count);

    [LibraryImport(Name, EntryPoint = "lseek")]
    public static partial long Lseek(int fd, long offset, int whence);

    [LibraryImport(Name, EntryPoint = "close")]
    public static partial int Close(int fd);

    [LibraryImport(Name, EntryPoint = "ferror")]
    public static partial int Ferror(void* stream);

    /// <summary>The calling thread's errno.</summary>
    public static int Errno => *ErrnoLocation();
}
