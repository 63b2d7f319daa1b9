"""@bento.service and @bento.api: BentoML's decorators. They only record options; the class
stays an ordinary class, and an API an ordinary method that other methods may call."""
import typing as t


def service(cls=None, /, *, name: t.Optional[str] = None, resources: t.Optional[dict] = None,
            traffic: t.Optional[dict] = None, workers: t.Any = None, **_bentoml_options):
    """Marks a class as a service: `bento serve module:Class` (or `python -m bento serve`)
    serves its @bento.api methods. `traffic` takes timeout and max_concurrency. `workers`
    (a number, or "cpu_count") is how many processes serve on the port, each with its own
    instance; the serve flag --processes overrides it."""
    def wrap(klass):
        klass.__bento_service__ = {"name": name, "resources": resources, "traffic": traffic,
                                   "workers": workers}
        return klass
    return wrap(cls) if cls is not None else wrap


def api(func=None, /, *, name: t.Optional[str] = None, batchable: bool = False,
        max_batch_size: int = 32, max_latency_ms: float = 60000,
        batch_dim: t.Union[int, t.Tuple[int, int]] = 0, route: t.Optional[str] = None, **_):
    """Marks a method as an API served at POST /<name>, or at `route`. A batchable API takes
    one np.ndarray (a request's items along batch_dim) and is called once per batch of
    requests."""
    if route is not None:
        route = "/" + route.strip("/")
        if "{" in route or "}" in route or "?" in route or route == "/":
            raise ValueError(f"route {route!r}: give a fixed path such as /v1/predict (bento's "
                             "APIs take their parameters from the body, not the path)")

    def wrap(f):
        f.__bento_api__ = {"name": name, "batchable": batchable, "max_batch_size": max_batch_size,
                           "max_latency_ms": max_latency_ms, "batch_dim": batch_dim,
                           "route": route}
        return f
    return wrap(func) if func is not None else wrap
