using System.Runtime.InteropServices;

namespace PyAlloc.Interop;

/* Sections 9, 10 and 12 of include/pyalloc.h: tracemalloc, call sites, the object census (section 11,
   the debug hooks, is in NativeMethods.Debug.cs).  Types map as in sections 1-8, plus: pa_snapshot* ->
   PaSnapshot*, pa_stat_key -> PaStatKey, pa_frame* / pa_statistic* / pa_statistic_diff* /
   pa_type_count* -> PaFrame* / PaStatistic* / PaStatisticDiff* / PaTypeCount*, ptrdiff_t -> nint,
   char* (an output buffer) -> byte*.

   GC transitions: [SuppressGCTransition] only on pa_tracemalloc_is_tracing and
   pa_tracemalloc_get_traceback_limit, which read one int.  Everything else takes the tracer's lock,
   which a snapshot holds while it symbolises code addresses (addr2line runs then), or may collect
   and call back (the object calls), or reads and writes files. */
public static unsafe partial class NativeMethods
{
    /// <summary><c>PA_STAT_FILENAME</c>: statistics grouped by file.</summary>
    public const PaStatKey PA_STAT_FILENAME = PaStatKey.Filename;
    /// <summary><c>PA_STAT_LINENO</c>: statistics grouped by file and line.</summary>
    public const PaStatKey PA_STAT_LINENO = PaStatKey.Lineno;
    /// <summary><c>PA_STAT_TRACEBACK</c>: statistics grouped by the whole traceback.</summary>
    public const PaStatKey PA_STAT_TRACEBACK = PaStatKey.Traceback;

    // -------------------------------------------------------------------- 9. tracemalloc

    /// <summary><c>int pa_tracemalloc_start(int nframe)</c>: <c>tracemalloc.start(nframe)</c>; starting while tracing changes
    /// nframe for new traces.</summary>
    /// <param name="nframe">Frames kept per trace, 1 to 100.</param>
    /// <returns>0, or -1 (error set) for a bad <paramref name="nframe"/>.</returns>
    [LibraryImport(LibraryName)]
    public static partial int pa_tracemalloc_start(int nframe);

    /// <summary><c>void pa_tracemalloc_stop(void)</c>: <c>tracemalloc.stop()</c>: tracing ends and every trace is forgotten.</summary>
    [LibraryImport(LibraryName)]
    public static partial void pa_tracemalloc_stop();

    /// <summary><c>int pa_tracemalloc_is_tracing(void)</c>: <c>tracemalloc.is_tracing()</c>.</summary>
    /// <returns>1 while tracing, else 0.</returns>
    [LibraryImport(LibraryName), SuppressGCTransition]
    public static partial int pa_tracemalloc_is_tracing();

    /// <summary><c>int pa_tracemalloc_get_traceback_limit(void)</c>: <c>tracemalloc.get_traceback_limit()</c>.</summary>
    /// <returns>The nframe of the last start, or 1 before any.</returns>
    [LibraryImport(LibraryName), SuppressGCTransition]
    public static partial int pa_tracemalloc_get_traceback_limit();

    /// <summary><c>void pa_tracemalloc_get_traced_memory(size_t *current, size_t *peak)</c>: <c>tracemalloc.get_traced_memory()</c>.</summary>
    /// <param name="current">Receives the bytes of the traced blocks now; may be null.</param>
    /// <param name="peak">Receives the most since tracing started or since <see cref="pa_tracemalloc_reset_peak"/>; may be null.</param>
    [LibraryImport(LibraryName)]
    public static partial void pa_tracemalloc_get_traced_memory(nuint* current, nuint* peak);

    /// <summary><c>void pa_tracemalloc_reset_peak(void)</c>: <c>tracemalloc.reset_peak()</c>: the peak becomes the current size.</summary>
    [LibraryImport(LibraryName)]
    public static partial void pa_tracemalloc_reset_peak();

    /// <summary><c>size_t pa_tracemalloc_get_memory(void)</c>: <c>tracemalloc.get_tracemalloc_memory()</c>.</summary>
    /// <returns>Bytes of the tracer's own tables (traces, tracebacks, names).</returns>
    [LibraryImport(LibraryName)]
    public static partial nuint pa_tracemalloc_get_memory();

    /// <summary><c>void pa_tracemalloc_clear_traces(void)</c>: <c>tracemalloc.clear_traces()</c>: every trace forgotten, tracing goes on.</summary>
    [LibraryImport(LibraryName)]
    public static partial void pa_tracemalloc_clear_traces();

    /// <summary><c>pa_snapshot *pa_tracemalloc_take_snapshot(void)</c>: <c>tracemalloc.take_snapshot()</c>.</summary>
    /// <returns>A copy of the traces, independent of the tracer, freed by <see cref="pa_snapshot_free"/>;
    /// null (error set) when not tracing.</returns>
    /// <remarks>Code addresses are symbolised now (addr2line may run).</remarks>
    [LibraryImport(LibraryName)]
    public static partial PaSnapshot* pa_tracemalloc_take_snapshot();

    /// <summary><c>void pa_snapshot_free(pa_snapshot *s)</c>: frees a snapshot; every string it handed out dies.</summary>
    /// <param name="s">The snapshot; null is a no-op.</param>
    [LibraryImport(LibraryName)]
    public static partial void pa_snapshot_free(PaSnapshot* s);

    /// <summary><c>size_t pa_snapshot_trace_count(const pa_snapshot *s)</c>: the number of traces.</summary>
    /// <param name="s">The snapshot.</param>
    /// <returns>The count, or <see cref="PA_SIZE_ERROR"/> (error set) for null.</returns>
    [LibraryImport(LibraryName)]
    public static partial nuint pa_snapshot_trace_count(PaSnapshot* s);

    /// <summary><c>int pa_snapshot_traceback_limit(const pa_snapshot *s)</c>: the nframe the snapshot's traces were taken with.</summary>
    /// <param name="s">The snapshot.</param>
    /// <returns>The limit, or -1 (error set) for null.</returns>
    [LibraryImport(LibraryName)]
    public static partial int pa_snapshot_traceback_limit(PaSnapshot* s);

    /// <summary><c>size_t pa_snapshot_statistics(const pa_snapshot *s, pa_stat_key key, pa_statistic *out, size_t cap)</c>:
    /// <c>Snapshot.statistics(key)</c>, sorted as CPython (size, then count, then traceback; largest first).</summary>
    /// <param name="s">The snapshot.</param>
    /// <param name="key">How to group.</param>
    /// <param name="out">Receives up to <paramref name="cap"/> groups; may be null when <paramref name="cap"/> is 0.
    /// Strings and frames belong to <paramref name="s"/>.</param>
    /// <param name="cap">Room in <paramref name="out"/>.</param>
    /// <returns>How many groups there are in all, or <see cref="PA_SIZE_ERROR"/> (error set).</returns>
    [LibraryImport(LibraryName)]
    public static partial nuint pa_snapshot_statistics(PaSnapshot* s, PaStatKey key, PaStatistic* @out, nuint cap);

    /// <summary><c>size_t pa_snapshot_compare_to(const pa_snapshot *now, const pa_snapshot *old, pa_stat_key key, pa_statistic_diff *out, size_t cap)</c>:
    /// <c>Snapshot.compare_to(old, key)</c>, in CPython's order (|size_diff|, size, |count_diff|, count, traceback; largest first).</summary>
    /// <param name="now">The newer snapshot.</param>
    /// <param name="old">The older one.</param>
    /// <param name="key">How to group.</param>
    /// <param name="out">Receives up to <paramref name="cap"/> groups; strings belong to both snapshots.</param>
    /// <param name="cap">Room in <paramref name="out"/>.</param>
    /// <returns>How many groups there are in all, or <see cref="PA_SIZE_ERROR"/> (error set).</returns>
    [LibraryImport(LibraryName)]
    public static partial nuint pa_snapshot_compare_to(PaSnapshot* now, PaSnapshot* old, PaStatKey key, PaStatisticDiff* @out, nuint cap);

    /// <summary><c>pa_snapshot *pa_snapshot_filter(const pa_snapshot *s, int inclusive, const char *filename_pattern, int lineno)</c>:
    /// <c>Snapshot.filter_traces([Filter(inclusive, filename_pattern, lineno)])</c>, judged on each trace's most recent frame.</summary>
    /// <param name="s">The snapshot.</param>
    /// <param name="inclusive">Non-zero: keep the traces that match; 0: keep those that do not.</param>
    /// <param name="filename_pattern">An <c>fnmatch</c> pattern (<c>*</c>, <c>?</c>, <c>[seq]</c>, <c>[!seq]</c>), NUL-terminated UTF-8.</param>
    /// <param name="lineno">A line the match also needs, or 0 (or less) for any line.</param>
    /// <returns>A new snapshot (free it), or null (error set).</returns>
    [LibraryImport(LibraryName)]
    public static partial PaSnapshot* pa_snapshot_filter(PaSnapshot* s, int inclusive, byte* filename_pattern, int lineno);

    /// <summary><c>size_t pa_snapshot_statistics_cumulative(const pa_snapshot *s, pa_stat_key key, pa_statistic *out, size_t cap)</c>:
    /// <c>Snapshot.statistics(key, cumulative=True)</c>: every frame of a trace counts the trace.</summary>
    /// <param name="s">The snapshot.</param>
    /// <param name="key"><see cref="PaStatKey.Filename"/> or <see cref="PaStatKey.Lineno"/> (traceback is refused, as CPython's ValueError).</param>
    /// <param name="out">Receives up to <paramref name="cap"/> groups.</param>
    /// <param name="cap">Room in <paramref name="out"/>.</param>
    /// <returns>How many groups there are in all, or <see cref="PA_SIZE_ERROR"/> (error set).</returns>
    [LibraryImport(LibraryName)]
    public static partial nuint pa_snapshot_statistics_cumulative(PaSnapshot* s, PaStatKey key, PaStatistic* @out, nuint cap);

    /// <summary><c>size_t pa_snapshot_compare_to_cumulative(...)</c>: <c>Snapshot.compare_to(old, key, cumulative=True)</c>.</summary>
    /// <param name="now">The newer snapshot.</param>
    /// <param name="old">The older snapshot.</param>
    /// <param name="key"><see cref="PaStatKey.Filename"/> or <see cref="PaStatKey.Lineno"/>.</param>
    /// <param name="out">Receives up to <paramref name="cap"/> groups.</param>
    /// <param name="cap">Room in <paramref name="out"/>.</param>
    /// <returns>How many groups there are in all, or <see cref="PA_SIZE_ERROR"/> (error set).</returns>
    [LibraryImport(LibraryName)]
    public static partial nuint pa_snapshot_compare_to_cumulative(PaSnapshot* now, PaSnapshot* old, PaStatKey key, PaStatisticDiff* @out, nuint cap);

    /// <summary><c>int pa_snapshot_get_trace(const pa_snapshot *s, size_t index, pa_trace *out)</c>: <c>Snapshot.traces[index]</c>.</summary>
    /// <param name="s">The snapshot.</param>
    /// <param name="index">0 to the trace count - 1.</param>
    /// <param name="out">Receives the trace; its frames belong to the snapshot.</param>
    /// <returns>0, or -1 (error set).</returns>
    [LibraryImport(LibraryName)]
    public static partial int pa_snapshot_get_trace(PaSnapshot* s, nuint index, PaTrace* @out);

    /// <summary><c>pa_snapshot *pa_snapshot_filter_traces(const pa_snapshot *s, const pa_filter *filters, size_t nfilters)</c>:
    /// <c>Snapshot.filter_traces(filters)</c> with CPython's rules.</summary>
    /// <param name="s">The snapshot.</param>
    /// <param name="filters">The filters (Filter or DomainFilter).</param>
    /// <param name="nfilters">How many.</param>
    /// <returns>A new snapshot (free it), or null (error set).</returns>
    [LibraryImport(LibraryName)]
    public static partial PaSnapshot* pa_snapshot_filter_traces(PaSnapshot* s, PaFilter* filters, nuint nfilters);

    /// <summary><c>PA_FILTER</c>: a <see cref="PaFilter"/> that is CPython's <c>Filter</c>.</summary>
    public const PaFilterKind PA_FILTER = PaFilterKind.Filter;

    /// <summary><c>PA_DOMAIN_FILTER</c>: a <see cref="PaFilter"/> that is CPython's <c>DomainFilter</c>.</summary>
    public const PaFilterKind PA_DOMAIN_FILTER = PaFilterKind.DomainFilter;

    /// <summary>The <c>limit</c> of <see cref="pa_traceback_format"/> that stands for CPython's None (<c>PA_TRACEBACK_NO_LIMIT</c>).</summary>
    public const int PA_TRACEBACK_NO_LIMIT = int.MinValue;

    /// <summary><c>int pa_traceback_format(const pa_frame *frames, int nframes, int limit, int most_recent_first, char *buf, size_t cap)</c>:
    /// <c>Traceback.format(limit, most_recent_first)</c> as text, one line per '\n'.</summary>
    /// <param name="frames">The frames, most recent first.</param>
    /// <param name="nframes">How many.</param>
    /// <param name="limit">CPython's limit, or <see cref="PA_TRACEBACK_NO_LIMIT"/>.</param>
    /// <param name="most_recent_first">Non-zero: most recent frame first.</param>
    /// <param name="buf">Receives at most <paramref name="cap"/> bytes with the NUL.</param>
    /// <param name="cap">Room in <paramref name="buf"/>.</param>
    /// <returns>The length the whole text needs, or -1 (error set).</returns>
    [LibraryImport(LibraryName)]
    public static partial int pa_traceback_format(PaFrame* frames, int nframes, int limit, int most_recent_first, byte* buf, nuint cap);

    /// <summary><c>int pa_tracemalloc_track(unsigned int domain, uintptr_t ptr, size_t size)</c>: <c>PyTraceMalloc_Track</c>.</summary>
    /// <param name="domain">The domain (0 is PyAlloc's own).</param>
    /// <param name="ptr">The block's address.</param>
    /// <param name="size">Its size.</param>
    /// <returns>0; -2 when not tracing; -1 (error set) when out of memory.</returns>
    [LibraryImport(LibraryName)]
    public static partial int pa_tracemalloc_track(uint domain, nuint ptr, nuint size);

    /// <summary><c>int pa_tracemalloc_track_at(unsigned int domain, uintptr_t ptr, size_t size, const char *file, int line)</c>:
    /// <see cref="pa_tracemalloc_track"/> with a named site.</summary>
    /// <param name="domain">The domain.</param>
    /// <param name="ptr">The block's address.</param>
    /// <param name="size">Its size.</param>
    /// <param name="file">The site's file, NUL-terminated UTF-8, valid while tracing.</param>
    /// <param name="line">The site's line.</param>
    /// <returns>0; -2 when not tracing; -1 (error set).</returns>
    [LibraryImport(LibraryName)]
    public static partial int pa_tracemalloc_track_at(uint domain, nuint ptr, nuint size, byte* file, int line);

    /// <summary><c>int pa_tracemalloc_untrack(unsigned int domain, uintptr_t ptr)</c>: <c>PyTraceMalloc_Untrack</c>.</summary>
    /// <param name="domain">The domain.</param>
    /// <param name="ptr">The block's address.</param>
    /// <returns>0 (also for a block not traced); -2 when not tracing.</returns>
    [LibraryImport(LibraryName)]
    public static partial int pa_tracemalloc_untrack(uint domain, nuint ptr);

    /// <summary><c>int pa_snapshot_dump(const pa_snapshot *s, const char *path)</c>: writes the snapshot to a file.</summary>
    /// <param name="s">The snapshot.</param>
    /// <param name="path">NUL-terminated UTF-8 path.</param>
    /// <returns>0, or -1 (error set) for null arguments or a file that cannot be written.</returns>
    [LibraryImport(LibraryName)]
    public static partial int pa_snapshot_dump(PaSnapshot* s, byte* path);

    /// <summary><c>pa_snapshot *pa_snapshot_load(const char *path)</c>: reads a snapshot written by <see cref="pa_snapshot_dump"/>.</summary>
    /// <param name="path">NUL-terminated UTF-8 path.</param>
    /// <returns>The snapshot, or null (error set) for a missing, truncated, damaged or foreign file.</returns>
    [LibraryImport(LibraryName)]
    public static partial PaSnapshot* pa_snapshot_load(byte* path);

    /// <summary><c>int pa_statistic_format(const pa_statistic *st, char *buf, size_t cap)</c>: <c>str(Statistic)</c>, exactly,
    /// e.g. "tour.c:5: size=7812 KiB, count=1000, average=8000 B".</summary>
    /// <param name="st">The statistic.</param>
    /// <param name="buf">Receives at most <paramref name="cap"/> bytes, the last a NUL; may be null when <paramref name="cap"/> is 0.</param>
    /// <param name="cap">Room in <paramref name="buf"/>.</param>
    /// <returns>The length of the whole text (as <c>snprintf</c>), or -1 (error set) for null arguments.</returns>
    [LibraryImport(LibraryName)]
    public static partial int pa_statistic_format(PaStatistic* st, byte* buf, nuint cap);

    /// <summary><c>int pa_statistic_diff_format(const pa_statistic_diff *st, char *buf, size_t cap)</c>: <c>str(StatisticDiff)</c>,
    /// e.g. "tour.c:5: size=7812 KiB (+7812 KiB), count=1000 (+1000), average=8000 B".</summary>
    /// <param name="st">The statistic.</param>
    /// <param name="buf">Receives at most <paramref name="cap"/> bytes, the last a NUL; may be null when <paramref name="cap"/> is 0.</param>
    /// <param name="cap">Room in <paramref name="buf"/>.</param>
    /// <returns>The length of the whole text (as <c>snprintf</c>), or -1 (error set) for null arguments.</returns>
    [LibraryImport(LibraryName)]
    public static partial int pa_statistic_diff_format(PaStatisticDiff* st, byte* buf, nuint cap);

    /// <summary><c>int pa_tracemalloc_get_traceback(const void *block, pa_frame *out, int cap)</c>: <c>tracemalloc.get_object_traceback()</c>.</summary>
    /// <param name="block">A block or an object (the object pointer).</param>
    /// <param name="out">Receives up to <paramref name="cap"/> frames, most recent first; the strings stay valid until tracing stops.</param>
    /// <param name="cap">Room in <paramref name="out"/>.</param>
    /// <returns>The number of frames, 0 when the block is not traced, -1 (error set) for a null block.</returns>
    [LibraryImport(LibraryName)]
    public static partial int pa_tracemalloc_get_traceback(void* block, PaFrame* @out, int cap);

    // ------------------------------------------------------------------- 10. call sites

    /// <summary><c>void *pa_malloc_at(size_t n, const char *file, int line)</c>: <see cref="pa_malloc"/>, traced at (file, line).</summary>
    /// <param name="n">Bytes wanted.</param>
    /// <param name="file">The site's file, NUL-terminated; must stay valid while tracing (pinned or native memory).</param>
    /// <param name="line">The site's line.</param>
    /// <returns>As <see cref="pa_malloc"/>.</returns>
    [LibraryImport(LibraryName)]
    public static partial void* pa_malloc_at(nuint n, byte* file, int line);

    /// <summary><c>void *pa_calloc_at(size_t nelem, size_t elsize, const char *file, int line)</c>: <see cref="pa_calloc"/>, traced at (file, line).</summary>
    /// <param name="nelem">Number of elements.</param>
    /// <param name="elsize">Bytes per element.</param>
    /// <param name="file">The site's file; must stay valid while tracing.</param>
    /// <param name="line">The site's line.</param>
    /// <returns>As <see cref="pa_calloc"/>.</returns>
    [LibraryImport(LibraryName)]
    public static partial void* pa_calloc_at(nuint nelem, nuint elsize, byte* file, int line);

    /// <summary><c>void *pa_realloc_at(void *p, size_t n, const char *file, int line)</c>: <see cref="pa_realloc"/>; the block is
    /// traced at (file, line) afterwards.</summary>
    /// <param name="p">A live block, or null.</param>
    /// <param name="n">The new size.</param>
    /// <param name="file">The site's file; must stay valid while tracing.</param>
    /// <param name="line">The site's line.</param>
    /// <returns>As <see cref="pa_realloc"/>.</returns>
    [LibraryImport(LibraryName)]
    public static partial void* pa_realloc_at(void* p, nuint n, byte* file, int line);

    /// <summary><c>pa_object *pa_object_new_at(pa_type *t, const char *file, int line)</c>: <see cref="pa_object_new"/>, traced at (file, line).</summary>
    /// <param name="t">The type.</param>
    /// <param name="file">The site's file; must stay valid while tracing.</param>
    /// <param name="line">The site's line.</param>
    /// <returns>A NEW reference, or null (error set).</returns>
    [LibraryImport(LibraryName)]
    public static partial PaObject* pa_object_new_at(PaType* t, byte* file, int line);

    /// <summary><c>pa_object *pa_object_new_var_at(pa_type *t, size_t nitems, const char *file, int line)</c>:
    /// <see cref="pa_object_new_var"/>, traced at (file, line).</summary>
    /// <param name="t">A variable-sized type.</param>
    /// <param name="nitems">Number of items.</param>
    /// <param name="file">The site's file; must stay valid while tracing.</param>
    /// <param name="line">The site's line.</param>
    /// <returns>A NEW reference, or null (error set).</returns>
    [LibraryImport(LibraryName)]
    public static partial PaObject* pa_object_new_var_at(PaType* t, nuint nitems, byte* file, int line);

    /// <summary><c>pa_object *pa_list_new_at(pa_runtime *rt, const char *file, int line)</c>: <see cref="pa_list_new"/>, traced at (file, line).</summary>
    /// <param name="rt">The runtime.</param>
    /// <param name="file">The site's file; must stay valid while tracing.</param>
    /// <param name="line">The site's line.</param>
    /// <returns>A NEW reference, or null (error set).</returns>
    [LibraryImport(LibraryName)]
    public static partial PaObject* pa_list_new_at(PaRuntime* rt, byte* file, int line);

    // -------------------------------------------------------------------- 12. introspection

    /// <summary><c>size_t pa_count_objects_by_type(pa_runtime *rt, pa_type_count *out, size_t cap)</c>: live objects per type of
    /// <paramref name="rt"/>, largest total bytes first, then most objects (the find_leaks census).</summary>
    /// <param name="rt">The runtime.</param>
    /// <param name="out">Receives up to <paramref name="cap"/> rows; may be null when <paramref name="cap"/> is 0.</param>
    /// <param name="cap">Room in <paramref name="out"/>.</param>
    /// <returns>The number of types with live objects, or <see cref="PA_SIZE_ERROR"/> (error set).</returns>
    [LibraryImport(LibraryName)]
    public static partial nuint pa_count_objects_by_type(PaRuntime* rt, PaTypeCount* @out, nuint cap);

    /// <summary><c>size_t pa_runtime_pool_map(pa_runtime *rt, pa_pool_info *out, size_t cap)</c>: the heap map of
    /// <paramref name="rt"/>, one row per pool of its heap's arenas (64 per arena).</summary>
    /// <param name="rt">The runtime.</param>
    /// <param name="out">Receives up to <paramref name="cap"/> rows; may be null when <paramref name="cap"/> is 0.</param>
    /// <param name="cap">Room in <paramref name="out"/>.</param>
    /// <returns>The number of pools, or <see cref="PA_SIZE_ERROR"/> (error set).</returns>
    [LibraryImport(LibraryName)]
    public static partial nuint pa_runtime_pool_map(PaRuntime* rt, PaPoolInfo* @out, nuint cap);

    /// <summary><c>int pa_runtime_get_malloc_stats(pa_runtime *rt, pa_malloc_stats *out)</c>: the figures of
    /// <paramref name="rt"/>'s own heap and large blocks.</summary>
    /// <param name="rt">The runtime.</param>
    /// <param name="out">Where to write; null is an error.</param>
    /// <returns>0, or -1 (error set).</returns>
    [LibraryImport(LibraryName)]
    public static partial int pa_runtime_get_malloc_stats(PaRuntime* rt, PaMallocStats* @out);

    /// <summary><c>int pa_runtime_print_malloc_stats(pa_runtime *rt, FILE *out)</c>: those figures as
    /// <see cref="pa_print_malloc_stats"/>'s table.</summary>
    /// <param name="rt">The runtime.</param>
    /// <param name="out">A C stream open for writing.</param>
    /// <returns>0, or -1 (error set).</returns>
    [LibraryImport(LibraryName)]
    public static partial int pa_runtime_print_malloc_stats(PaRuntime* rt, void* @out);

    /// <summary><c>size_t pa_pool_map(pa_pool_info *out, size_t cap)</c>: the heap map of the process heap that serves
    /// <c>pa_malloc</c>; 0 in the malloc modes.</summary>
    /// <param name="out">Receives up to <paramref name="cap"/> rows; may be null when <paramref name="cap"/> is 0.</param>
    /// <param name="cap">Room in <paramref name="out"/>.</param>
    /// <returns>The number of pools, or <see cref="PA_SIZE_ERROR"/> (error set).</returns>
    [LibraryImport(LibraryName)]
    public static partial nuint pa_pool_map(PaPoolInfo* @out, nuint cap);
}
