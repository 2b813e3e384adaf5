"""Reading the sources' own words: numbers, units, sentences, dates, countries and languages."""
