// Architecture adapters register themselves with @fmn/core when imported.
import '@fmn/arch-bert';
import '@fmn/arch-roberta';
import '@fmn/arch-distilbert';
import '@fmn/arch-electra';

// Backends register their names (lazily: TensorFlow.js and onnxruntime-node load only when a
// backend of theirs starts), so option parsing and help list whatever is registered.
import '@fmn/backend-onnxruntime/register';
import '@fmn/backend-tfjs/register';
