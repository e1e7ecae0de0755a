#!/usr/bin/env bash
# Exports the public datasets that Debian ships inside R packages into data/ (run once; the CSVs are committed):
#   glass.csv        UCI Glass Identification (B. German, 1987), from r-cran-mlbench; label = Type (6 classes)
#   penguins_raw.csv Palmer penguins raw data (K. Gorman, Palmer Station LTER; CC0), from r-cran-palmerpenguins:
#                    text columns, missing values, ids, dates and comments, label = Species
# Needs: apt-get install r-cran-mlbench r-cran-palmerpenguins
set -euo pipefail
cd "$(dirname "$0")/.."
Rscript -e 'library(mlbench); data(Glass); g <- Glass; names(g)[names(g) == "Type"] <- "label"; write.csv(g, "data/glass.csv", row.names = FALSE, quote = FALSE)'
cp /usr/lib/R/site-library/palmerpenguins/extdata/penguins_raw.csv data/penguins_raw.csv
echo "wrote data/glass.csv and data/penguins_raw.csv"
