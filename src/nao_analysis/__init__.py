"""nao-analysis: rebuild the figures of the NAO report *Reducing the harm from illegal drugs* (HC 1864, 2023).

Layers, each importing only the ones before it::

    sources -> readers -> analysis -> (notebooks) -> report

"""

__version__ = "0.1.0"
