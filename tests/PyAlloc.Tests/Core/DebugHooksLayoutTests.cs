using System;
using System.Runtime.InteropServices;
using NUnit.Framework;
using PyAlloc.Core.Allocator;
using PyAlloc.Core.Debugging;
using PyAlloc.Core.Support;

namespace PyAlloc.Tests.Core;

/// <summary>
/// The debug hooks' layout helpers in-process, on raw blocks the tests allocate themselves:
/// big-endian fields, <see cref="DebugHooks.Decorate"/>, <see cref="DebugHooks.Check"/> (each damage,
/// in CPython's order, never reading past the raw block) and the text of
/// <see cref="DebugHooks.Dump"/> and <see cref="DebugHooks.Reason"/>. (This process runs pymalloc; the
/// hooks at work are tested in child processes and from C.)
/// </summary>
[TestFixture]
public sealed unsafe class DebugHooksLayoutTests
{
    private const int S = DebugHooks.S;

    /* A raw block of n + 32 bytes (rounded up to 16, as a pool block would be), decorated. */
    private static byte* NewBlock(nuint n, out nuint rawSize, ulong serial = 7, bool zero = false)
    {
        rawSize = (n + DebugHooks.Overhead + 15) & ~(nuint)15;
        byte* raw = (byte*)NativeMemory.AlignedAlloc(rawSize, 16);
        NativeMemory.Fill(raw, rawSize, 0x5A);
        return DebugHooks.Decorate(raw, n, DebugHooks.ApiMalloc, serial, zero);
    }

    private static void FreeBlock(byte* data) => NativeMemory.AlignedFree(data - DebugHooks.HeadBytes);

    [Test]
    public void Sizes_AreWrittenAndReadBigEndian()
    {
        byte* b = stackalloc byte[S];
        DebugHooks.WriteSize(b, 0x0102030405060708UL);
        Assert.That(new ReadOnlySpan<byte>(b, S).ToArray(), Is.EqualTo(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 }));
        Assert.That(DebugHooks.ReadSize(b), Is.EqualTo(0x0102030405060708UL));
        foreach (ulong v in new[] { 0UL, 1UL, 24UL, 0xFFUL, 0x100UL, ulong.MaxValue })
        {
            DebugHooks.WriteSize(b, v);
            Assert.That(DebugHooks.ReadSize(b), Is.EqualTo(v));
        }
        DebugHooks.WriteSize(b, 24);
        Assert.That(b[S - 1], Is.EqualTo(24), "least significant byte last");
    }

    [TestCase(0u)]
    [TestCase(1u)]
    [TestCase(24u)]
    [TestCase(480u)]
    [TestCase(5000u)]
    public void Decorate_LaysTheBlockOutAsCPython(uint n)
    {
        byte* p = NewBlock(n, out nuint raw, serial: 0x1234);
        Assert.That((ulong)p % 16, Is.Zero);
        Assert.That(DebugHooks.ReadSize(p - 16), Is.EqualTo((ulong)n));
        Assert.That(p[-8], Is.EqualTo((byte)'m'));
        for (int i = 1; i <= 7; i++)
            Assert.That(p[-i], Is.EqualTo(0xFD), $"p-{i}");
        for (uint i = 0; i < n; i++)
            Assert.That(p[i], Is.EqualTo(0xCD), $"data byte {i}");
        for (uint i = 0; i < 8; i++)
            Assert.That(p[n + i], Is.EqualTo(0xFD), $"tail+{i}");
        Assert.That(DebugHooks.ReadSize(p + n + 8), Is.EqualTo(0x1234UL));
        Assert.That(DebugHooks.Check(p, raw, DebugHooks.ApiMalloc), Is.EqualTo(Damage.None));
        FreeBlock(p);

        byte* z = NewBlock(n, out raw, zero: true);
        for (uint i = 0; i < n; i++)
            Assert.That(z[i], Is.Zero, $"calloc data byte {i}");
        Assert.That(DebugHooks.Check(z, raw, DebugHooks.ApiMalloc), Is.EqualTo(Damage.None));
        FreeBlock(z);
    }

    [Test]
    public void Check_FindsEachDamage_InCPythonsOrder()
    {
        byte* p = NewBlock(24, out nuint raw);
        Assert.That(DebugHooks.Check(p, raw, DebugHooks.ApiObject), Is.EqualTo(Damage.BadId), "verified with another API");

        p[24 + 7] = 0;
        Assert.That(DebugHooks.Check(p, raw, DebugHooks.ApiMalloc), Is.EqualTo(Damage.BadTrailingPad));
        p[-7] = 0;
        Assert.That(DebugHooks.Check(p, raw, DebugHooks.ApiMalloc), Is.EqualTo(Damage.BadLeadingPad), "the front first");
        p[-8] = (byte)'x';
        Assert.That(DebugHooks.Check(p, raw, DebugHooks.ApiMalloc), Is.EqualTo(Damage.BadId), "the id before all");
        p[-8] = (byte)'m';
        p[-7] = 0xFD;
        p[24 + 7] = 0xFD;
        Assert.That(DebugHooks.Check(p, raw, DebugHooks.ApiMalloc), Is.EqualTo(Damage.None));

        p[-16] = 1; // 2^56 + 24 bytes: cannot fit
        Assert.That(DebugHooks.Check(p, raw, DebugHooks.ApiMalloc), Is.EqualTo(Damage.BadSize));
        p[-16] = 0;
        DebugHooks.WriteSize(p - 16, raw - DebugHooks.Overhead + 1); // one byte too many
        Assert.That(DebugHooks.Check(p, raw, DebugHooks.ApiMalloc), Is.EqualTo(Damage.BadSize));
        DebugHooks.WriteSize(p - 16, raw - DebugHooks.Overhead); // the largest that fits: the tail moves
        Assert.That(DebugHooks.Check(p, raw, DebugHooks.ApiMalloc), Is.EqualTo(Damage.BadTrailingPad));
        FreeBlock(p);
    }

    [Test]
    public void Fits_KeepsTheTailAndSerialInsideTheRawBlock()
    {
        Assert.That(DebugHooks.Fits(0, 32), Is.True);
        Assert.That(DebugHooks.Fits(1, 32), Is.False);
        Assert.That(DebugHooks.Fits(16, 48), Is.True);
        Assert.That(DebugHooks.Fits(17, 48), Is.False);
        Assert.That(DebugHooks.Fits(0, 31), Is.False);
        Assert.That(DebugHooks.Fits(ulong.MaxValue, nuint.MaxValue), Is.False);
    }

    [Test]
    public void Dump_OfAnIntactBlock_IsCPythonsText()
    {
        byte* p = NewBlock(10, out nuint raw, serial: 42);
        "0123456789"u8.CopyTo(new Span<byte>(p, 10));
        Assert.That(DebugHooks.Dump(p, raw), Is.EqualTo(
            $"Debug memory block at address p={Errors.Hex(p)}: API 'm'\n" +
            "    10 bytes originally requested\n" +
            "    The 7 pad bytes at p-7 are FORBIDDENBYTE, as expected.\n" +
            $"    The 8 pad bytes at tail={Errors.Hex(p + 10)} are FORBIDDENBYTE, as expected.\n" +
            "    The block was made by call #42 to debug malloc/realloc.\n" +
            "    Data at p: 30 31 32 33 34 35 36 37 38 39\n" +
            "\n"));
        FreeBlock(p);
    }

    [TestCase(0u, "")]
    [TestCase(3u, "    Data at p: cd cd cd\n")]
    [TestCase(16u, "    Data at p: cd cd cd cd cd cd cd cd cd cd cd cd cd cd cd cd\n")]
    [TestCase(17u, "    Data at p: cd cd cd cd cd cd cd cd ... cd cd cd cd cd cd cd cd\n")]
    public void Dump_ShowsTheFirstAndLastEightDataBytes(uint n, string dataLine)
    {
        byte* p = NewBlock(n, out nuint raw);
        string dump = DebugHooks.Dump(p, raw);
        Assert.That(dump, Does.EndWith("to debug malloc/realloc.\n" + dataLine + "\n"));
        FreeBlock(p);
    }

    [Test]
    public void Dump_OfAnOverflow_MarksTheDamagedTailBytes()
    {
        byte* p = NewBlock(24, out nuint raw);
        p[24] = 0x00;
        p[27] = 0x41;
        string dump = DebugHooks.Dump(p, raw);
        Assert.That(dump, Does.Contain(
            $"    The 8 pad bytes at tail={Errors.Hex(p + 24)} are not all FORBIDDENBYTE (0xfd):\n" +
            "        at tail+0: 0x00 *** OUCH\n" +
            "        at tail+1: 0xfd\n" +
            "        at tail+2: 0xfd\n" +
            "        at tail+3: 0x41 *** OUCH\n" +
            "        at tail+4: 0xfd\n" +
            "        at tail+5: 0xfd\n" +
            "        at tail+6: 0xfd\n" +
            "        at tail+7: 0xfd\n" +
            "    The block was made by call #7 to debug malloc/realloc.\n"));
        FreeBlock(p);
    }

    [Test]
    public void Dump_OfAnUnderflow_ListsTheLeadingBytesAndWarnsAboutTheSize()
    {
        byte* p = NewBlock(8, out nuint raw);
        p[-3] = 0x00;
        string dump = DebugHooks.Dump(p, raw);
        Assert.That(dump, Does.Contain(
            "    The 7 pad bytes at p-7 are not all FORBIDDENBYTE (0xfd):\n" +
            "        at p-7: 0xfd\n" +
            "        at p-6: 0xfd\n" +
            "        at p-5: 0xfd\n" +
            "        at p-4: 0xfd\n" +
            "        at p-3: 0x00 *** OUCH\n" +
            "        at p-2: 0xfd\n" +
            "        at p-1: 0xfd\n" +
            "    Because memory is corrupted at the start, the count of bytes requested\n"));
        Assert.That(dump, Does.Contain("The 8 pad bytes at tail="), "the size still fits: the tail is shown");
        FreeBlock(p);
    }

    [Test]
    public void Dump_WithASizeThatDoesNotFit_ReadsNothingPastTheBlock()
    {
        // The raw block ends where an unreadable page begins: a read past it would crash.
        nuint page = (nuint)Environment.SystemPageSize;
        byte* map = (byte*)mmap(null, 2 * page, 3 /* PROT_READ | PROT_WRITE */, 0x22 /* MAP_PRIVATE | MAP_ANONYMOUS */, -1, 0);
        Assert.That((nint)map, Is.Not.EqualTo((nint)(-1)));
        try
        {
            Assert.That(mprotect(map + page, page, 0), Is.Zero);
            nuint raw = 64;
            byte* p = DebugHooks.Decorate(map + page - raw, raw - DebugHooks.Overhead, DebugHooks.ApiMalloc, 1, zero: false);
            Assert.That(DebugHooks.Check(p, raw, DebugHooks.ApiMalloc), Is.EqualTo(Damage.None));
            DebugHooks.WriteSize(p - 16, 1000);
            Assert.That(DebugHooks.Check(p, raw, DebugHooks.ApiMalloc), Is.EqualTo(Damage.BadSize));
            string dump = DebugHooks.Dump(p, raw);
            Assert.That(dump, Does.Contain("    1000 bytes originally requested\n"));
            Assert.That(dump, Does.Contain("    The count of bytes requested does not fit the block (32 bytes at most):\n" +
                                           "       the trailing pad bytes and the serial number were not read.\n"));
            Assert.That(dump, Does.Not.Contain("Data at p"));
        }
        finally
        {
            munmap(map, 2 * page);
        }
    }

    [Test]
    public void Reasons_AreCPythonsWords()
    {
        Assert.That(DebugHooks.Reason(Damage.BadId, (byte)'o', (byte)'m'),
                    Is.EqualTo("bad ID: Allocated using API 'o', verified using API 'm'"));
        Assert.That(DebugHooks.Reason(Damage.BadId, (byte)'m', (byte)'o'),
                    Is.EqualTo("bad ID: Allocated using API 'm', verified using API 'o'"));
        Assert.That(DebugHooks.Reason(Damage.BadId, 0xDD, (byte)'m'),
                    Is.EqualTo("bad ID: Allocated using API '\\xdd', verified using API 'm'"));
        Assert.That(DebugHooks.Reason(Damage.BadLeadingPad, 0, 0), Is.EqualTo("bad leading pad byte"));
        Assert.That(DebugHooks.Reason(Damage.BadTrailingPad, 0, 0), Is.EqualTo("bad trailing pad byte"));
    }

    [DllImport("libc")]
    private static extern void* mmap(void* addr, nuint length, int prot, int flags, int fd, nint offset);

    [DllImport("libc")]
    private static extern int mprotect(void* addr, nuint length, int prot);

    [DllImport("libc")]
    private static extern int munmap(void* addr, nuint length);
}
