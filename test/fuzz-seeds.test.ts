// The other two kept seeds of the fuzzer (what it checks, and what each seed once found: the
// comment at the top of test/fuzz.test.ts), in a file of their own so that they run beside it.
import { fuzzing, keptSeeds } from "./lib/fuzz-run";

fuzzing(keptSeeds([760680742, 765916553]));
