// Architecture adapters register themselves with @fmn/core when imported.
import '@fmn/arch-bert';
import '@fmn/arch-roberta';
import '@fmn/arch-distilbert';
import '@fmn/arch-electra';
