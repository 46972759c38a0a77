"""scikit-learn estimators around a pyneuron MLP: ``MLPClassifier`` and ``MLPRegressor``.

They take scikit-learn's own parameters with scikit-learn's meanings (``alpha`` is
the L2 penalty, ``learning_rate`` a schedule name, ``learning_rate_init`` the step
size, ``solver``, ``momentum``, ``tol``, ``n_iter_no_change``, ``early_stopping`` …),
so code written for ``sklearn.neural_network`` runs unchanged, in a ``Pipeline``,
``cross_val_score`` or ``GridSearchCV``::

    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from pyneuron.sklearn import MLPClassifier

    clf = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(32,), max_iter=50))
    clf.fit(X_train, y_train).score(X_test, y_test)

What pyneuron adds: ``negative_slope`` (leaky ReLU), ``dropout``, ``batch_norm``,
``backend``, more solvers, and ``model_``, the trained :class:`pyneuron.MLP`.

Modules: ``_params`` (the one translation from scikit-learn's parameters to
pyneuron's, with the derivation of the alpha ↔ ``l2`` mapping), ``_loop``
(scikit-learn's epoch loop as a Callback: schedules, stopping, early stopping),
``_base`` (training, fitted attributes), ``_estimators`` (the two classes).
"""
try:
    import sklearn  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only without scikit-learn
    raise ImportError(f"pyneuron.sklearn needs scikit-learn, which could not be imported ({exc}). "
                      "Install it with: pip install scikit-learn") from None

from ._estimators import MLPClassifier, MLPRegressor

__all__ = ["MLPClassifier", "MLPRegressor"]
