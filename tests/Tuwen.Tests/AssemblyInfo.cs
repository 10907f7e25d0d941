// Tests share TorchSharp's global RNG (manual_seed) and its 2 intra-op threads; running them one at a
// time keeps seeded tests deterministic and avoids oversubscribing a 2-core machine.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
