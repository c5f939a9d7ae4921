using PyAlloc.Core.Abi;

namespace PyAlloc.Core.Allocator;

/* The heap's figures: pa_get_malloc_stats's arena and pool counts, and the pool map. */
internal unsafe partial struct Heap
{
    // -------------------------------------------------------------- statistics

    /// <summary>Adds this heap's arena and pool figures to <paramref name="stats"/>.</summary>
    public static void AddStats(Heap* heap, PaMallocStats* stats)
    {
        heap->Lock.Enter();
        stats->ArenasAllocated += heap->ArenasAllocated;
        stats->ArenasReclaimed += heap->ArenasReclaimed;
        stats->ArenasCurrent += heap->ArenasCurrent;
        stats->ArenasHighwater += heap->ArenasHighwater;
        ArenaTable.ForEachArena(heap, &AddArenaStats, stats);
        heap->Lock.Exit();
    }

    /// <summary>
    /// Every pool of the heap's arenas, arena by arena (in the arena table's order), pools 0..63 of each:
    /// the heap map (<c>pa_runtime_pool_map</c>). Fills up to <paramref name="cap"/> rows, returns the total.
    /// </summary>
    /// <remarks>
    /// For several heaps in one map, pass the rows and arenas already written as
    /// <paramref name="firstRow"/> and <paramref name="firstArena"/>: rows go on from there.
    /// </remarks>
    public static nuint PoolMap(Heap* heap, PaPoolInfo* output, nuint cap, nuint firstRow = 0, nuint firstArena = 0)
    {
        PoolMapState state = new() { Output = output, Cap = cap, Total = firstRow, Arena = firstArena };
        heap->Lock.Enter();
        ArenaTable.ForEachArena(heap, &AddArenaPools, &state);
        heap->Lock.Exit();
        return state.Total;
    }

    private struct PoolMapState
    {
        public PaPoolInfo* Output;
        public nuint Cap, Total, Arena;
    }

    private static void AddArenaPools(ArenaObject* arena, void* state)
    {
        PoolMapState* s = (PoolMapState*)state;
        for (int i = 0; i < Geometry.PoolsPerArena; i++, s->Total++)
        {
            if (s->Total >= s->Cap)
                continue;
            byte* p = arena->Address + (nuint)i * Geometry.PoolSize;
            PaPoolInfo* row = &s->Output[s->Total];
            row->Arena = s->Arena;
            row->Pool = (nuint)i;
            PoolHeader* pool = (PoolHeader*)p;
            if (p >= arena->PoolAddress || pool->Count == 0)
            {
                // uncarved, or carved and empty (on the arena's free list)
                row->SizeClass = -1;
                row->BlockSize = 0;
                row->BlocksInUse = 0;
                row->BlocksTotal = 0;
                continue;
            }
            uint index = pool->SizeIndex;
            row->SizeClass = (int)index;
            row->BlockSize = Geometry.IndexToSize(index);
            row->BlocksInUse = pool->Count;
            row->BlocksTotal = Geometry.BlocksPerPool(index);
        }
        s->Arena++;
    }

    private static void AddArenaStats(ArenaObject* arena, void* state)
    {
        PaMallocStats* stats = (PaMallocStats*)state;
        stats->PoolsFree += arena->NFreePools;
        for (byte* p = arena->Address; p < arena->PoolAddress; p += Geometry.PoolSize)
        {
            PoolHeader* pool = (PoolHeader*)p;
            if (pool->Count == 0)
                continue; // empty: counted in NFreePools
            uint index = pool->SizeIndex;
            uint size = Geometry.IndexToSize(index);
            uint blocks = Geometry.BlocksPerPool(index);
            ref PaSizeClassStats cls = ref stats->Classes[(int)index];
            cls.Pools++;
            cls.BlocksInUse += pool->Count;
            cls.FreeBlocks += blocks - pool->Count;
            stats->PoolsInUse++;
            stats->BytesInUsedBlocks += (nuint)pool->Count * size;
            stats->BytesInFreeBlocks += (nuint)(blocks - pool->Count) * size;
            stats->BytesPoolHeaders += Geometry.PoolOverhead;
            stats->BytesQuantization += Geometry.PoolSize - Geometry.PoolOverhead - blocks * size;
        }
    }
}
