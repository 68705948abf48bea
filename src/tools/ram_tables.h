// ram_tables.h: the RAM paper's tables of test error against the number of
// glimpses, trained here beside them (`ram experiment ram-tables`).
#pragma once

#include <vector>

#include "tools/experiments.h"
#include "train/train.h"

// Trains the runs that are not finished (or, with print_commands, prints
// their commands; with collect_only, trains none), then writes
// DIR/ram-tables.csv, a PNG per table, DIR/ram-tables.md and a copy of
// each finished run's metrics in DIR/ram-tables-runs/.
void ram_tables_experiment(const ExperimentConfig& config);

// The runs of ram-tables, in the order it trains them: the settings of each,
// out_dir included, exactly as `ram train` would take them.
std::vector<TrainConfig> ram_tables_runs(const ExperimentConfig& config);
