"""Studies: a grid of technologies x workload sets x methods x aggregations x seeds, each cell
one search run, stored in a folder that `imcopt study resume` continues.

`Study(config, out).run()` is the Python twin of `imcopt study run STUDY.yaml --out DIR`;
`Study.open(DIR).run()` of `imcopt study resume DIR`.
"""

from .config import METHODS, Cell, StudyConfig, StudyError, expand, load_study, search_config
from .runner import Study

__all__ = ["METHODS", "Cell", "Study", "StudyConfig", "StudyError", "expand", "load_study",
           "search_config"]
