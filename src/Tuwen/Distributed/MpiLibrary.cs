using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Tuwen.Distributed;

/// <summary>
/// Open MPI's C API through function pointers into libmpi.so.40 (Debian's openmpi; no maintained .NET MPI
/// package exists). Open MPI's handles are addresses of exported objects (MPI_COMM_WORLD is
/// &amp;ompi_mpi_comm_world, MPI_FLOAT &amp;ompi_mpi_float …), so they are looked up as symbols; MPICH, whose
/// handles are integers, is not supported. The library is opened RTLD_GLOBAL because Open MPI's plugins
/// resolve libmpi's symbols from the global namespace.
/// </summary>
internal static unsafe class MpiLibrary
{
    public const string SoName = "libmpi.so.40";
    private const int ThreadSerialized = 2;   // MPI_THREAD_SERIALIZED in Open MPI's mpi.h
    private static readonly void* InPlace = (void*)1;   // MPI_IN_PLACE in Open MPI's mpi.h

    private static IntPtr handle;
    private static IntPtr commWorld, typeFloat, typeDouble, typeUInt16, typeByte, opSum, opSumBf16;
    private static delegate* unmanaged<int*, IntPtr, int, int*, int> initThread;
    private static delegate* unmanaged<int*, int> initialized;
    private static delegate* unmanaged<int> finalize;
    private static delegate* unmanaged<IntPtr, int*, int> commRank, commSize;
    private static delegate* unmanaged<void*, void*, int, IntPtr, IntPtr, IntPtr, int> allreduce;
    private static delegate* unmanaged<void*, int, IntPtr, void*, int, IntPtr, IntPtr, int> allgather;
    private static delegate* unmanaged<void*, int, IntPtr, int, IntPtr, int> bcast;
    private static delegate* unmanaged<IntPtr, int> barrier;
    private static delegate* unmanaged<IntPtr, int, int> abort;
    private static delegate* unmanaged<IntPtr, int, IntPtr*, int> opCreate;

    [DllImport("libdl.so.2", EntryPoint = "dlopen")]
    private static extern IntPtr DlOpen(string file, int mode);

    [DllImport("libdl.so.2", EntryPoint = "dlerror")]
    private static extern IntPtr DlError();

    /// <summary>MPI_Init_thread (once per process); returns (rank, size) of MPI_COMM_WORLD.</summary>
    public static (int Rank, int Size) Initialize()
    {
        Load();
        int flag;
        Check(initialized(&flag), "MPI_Initialized");
        if (flag == 0)
        {
            int provided;
            // The trainer calls MPI from one thread at a time, not always the main one (progress views).
            Check(initThread(null, IntPtr.Zero, ThreadSerialized, &provided), "MPI_Init_thread");
            IntPtr op;
            Check(opCreate((IntPtr)(delegate* unmanaged[Cdecl]<void*, void*, int*, IntPtr*, void>)&SumBf16, 1, &op), "MPI_Op_create");
            opSumBf16 = op;
        }
        int rank, size;
        Check(commRank(commWorld, &rank), "MPI_Comm_rank");
        Check(commSize(commWorld, &size), "MPI_Comm_size");
        return (rank, size);
    }

    public static void Shutdown() => Check(finalize(), "MPI_Finalize");

    public static void AllReduceSum(Span<float> values)
    {
        fixed (float* p = values) Check(allreduce(InPlace, p, values.Length, typeFloat, opSum, commWorld), "MPI_Allreduce");
    }

    public static void AllReduceSum(Span<double> values)
    {
        fixed (double* p = values) Check(allreduce(InPlace, p, values.Length, typeDouble, opSum, commWorld), "MPI_Allreduce");
    }

    public static void AllReduceSumBf16(Span<ushort> values)
    {
        fixed (ushort* p = values) Check(allreduce(InPlace, p, values.Length, typeUInt16, opSumBf16, commWorld), "MPI_Allreduce(bf16)");
    }

    public static void AllGather(ReadOnlySpan<float> local, Span<float> all)
    {
        fixed (float* s = local)
        fixed (float* r = all)
            Check(allgather(s, local.Length, typeFloat, r, local.Length, typeFloat, commWorld), "MPI_Allgather");
    }

    public static void Broadcast(Span<byte> data, int root)
    {
        // MPI counts are ints: send large tensors in pieces.
        const int piece = 1 << 30;
        fixed (byte* p = data)
            for (long offset = 0; offset < data.Length; offset += piece)
                Check(bcast(p + offset, (int)Math.Min(piece, data.Length - offset), typeByte, root, commWorld), "MPI_Bcast");
    }

    public static void Barrier() => Check(barrier(commWorld), "MPI_Barrier");

    public static void Abort(int code) => abort(commWorld, code);

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void SumBf16(void* inVector, void* inOutVector, int* length, IntPtr* datatype) =>
        Bf16.AddInto(new ReadOnlySpan<ushort>(inVector, *length), new Span<ushort>(inOutVector, *length));

    private static void Check(int code, string call)
    {
        if (code != 0) throw new TuwenException($"{call} failed with MPI error code {code}");
    }

    private static void Load()
    {
        if (handle != IntPtr.Zero) return;
        const int rtldNow = 2, rtldGlobal = 0x100;
        var h = DlOpen(SoName, rtldNow | rtldGlobal);
        if (h == IntPtr.Zero)
        {
            var why = Marshal.PtrToStringAnsi(DlError()) ?? "not found";
            throw new TuwenException($"--launcher mpi needs Open MPI ({SoName}: {why}); install it with: apt-get install openmpi-bin libopenmpi-dev");
        }
        IntPtr Symbol(string name) => NativeLibrary.TryGetExport(h, name, out var address) ? address
            : throw new TuwenException($"{SoName} has no symbol {name}: Tuwen supports Open MPI 4 or later");
        initThread = (delegate* unmanaged<int*, IntPtr, int, int*, int>)Symbol("MPI_Init_thread");
        initialized = (delegate* unmanaged<int*, int>)Symbol("MPI_Initialized");
        finalize = (delegate* unmanaged<int>)Symbol("MPI_Finalize");
        commRank = (delegate* unmanaged<IntPtr, int*, int>)Symbol("MPI_Comm_rank");
        commSize = (delegate* unmanaged<IntPtr, int*, int>)Symbol("MPI_Comm_size");
        allreduce = (delegate* unmanaged<void*, void*, int, IntPtr, IntPtr, IntPtr, int>)Symbol("MPI_Allreduce");
        allgather = (delegate* unmanaged<void*, int, IntPtr, void*, int, IntPtr, IntPtr, int>)Symbol("MPI_Allgather");
        bcast = (delegate* unmanaged<void*, int, IntPtr, int, IntPtr, int>)Symbol("MPI_Bcast");
        barrier = (delegate* unmanaged<IntPtr, int>)Symbol("MPI_Barrier");
        abort = (delegate* unmanaged<IntPtr, int, int>)Symbol("MPI_Abort");
        opCreate = (delegate* unmanaged<IntPtr, int, IntPtr*, int>)Symbol("MPI_Op_create");
        commWorld = Symbol("ompi_mpi_comm_world");
        typeFloat = Symbol("ompi_mpi_float");
        typeDouble = Symbol("ompi_mpi_double");
        typeUInt16 = Symbol("ompi_mpi_uint16_t");
        typeByte = Symbol("ompi_mpi_byte");
        opSum = Symbol("ompi_mpi_op_sum");
        handle = h;
    }
}
