#pragma once

#include "ui/StreamModel.h"

#include <QtCore/QSet>
#include <QtCore/QSortFilterProxyModel>

#include <optional>

namespace qmasque::ui {

// StreamFilterProxy: the streams table's view of StreamModel: the streams of the selected
// connections (all when none is selected), narrowed by the filter box (text in the target or the
// local client, protocol, state), sorted by RawValueRole. Reads rows directly from its StreamModel,
// so filtering 10 000 rows costs no QVariant per row. GUI thread only.
class StreamFilterProxy final : public QSortFilterProxyModel
{
    Q_OBJECT

public:
    explicit StreamFilterProxy(QObject *parent = nullptr);

    // setStreamModel: the source; not owned, must outlive the proxy or be reset first.
    void setStreamModel(StreamModel *model);
    StreamModel *streamModel() const { return m_model; }

    void setConnections(const QSet<quint64> &connectionIds); // empty: every connection
    void setText(const QString &text);
    void setProtocol(std::optional<TunnelProtocol> protocol);
    void setState(std::optional<StreamState> state);

    // isFiltering: the filter box narrows the rows (the connection selection does not count).
    bool isFiltering() const;
    // visibleKeys: the streams the view shows now, in view order ("close filtered").
    QList<StreamKey> visibleKeys() const;

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;

private:
    StreamModel *m_model = nullptr; // not owned
    QSet<quint64> m_connections;
    QString m_text;
    std::optional<TunnelProtocol> m_protocol;
    std::optional<StreamState> m_state;
};

} // namespace qmasque::ui
